package dev.torchlight.server.grpc;

import dev.torchlight.registry.RequestHeaders;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Makes each call's request metadata readable while the call's handlers run, so that a model's
 * traffic split can read its sticky header from gRPC metadata as it does from HTTP headers.
 */
final class CallHeaders implements ServerInterceptor {
    private static final Context.Key<Metadata> METADATA = Context.key("torchlight-request-metadata");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(METADATA, headers), call, headers, next);
    }

    /** The current call's metadata as request headers (text keys only); none outside a call. */
    static RequestHeaders current() {
        Metadata metadata = METADATA.get();
        if (metadata == null) {
            return RequestHeaders.NONE;
        }
        return name -> name.endsWith(Metadata.BINARY_HEADER_SUFFIX) ? null
                : metadata.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
    }
}
