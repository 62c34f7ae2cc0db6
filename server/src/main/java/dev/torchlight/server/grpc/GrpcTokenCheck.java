package dev.torchlight.server.grpc;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.auth.BearerToken;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Token authentication for gRPC calls: the key travels as {@code authorization: Bearer <key>}
 * call metadata, checked by the same {@link BearerToken} as the HTTP listeners, and a refusal is
 * UNAUTHENTICATED (no key) or PERMISSION_DENIED (a wrong one) with the same message as REST's 401
 * and 403.
 */
public final class GrpcTokenCheck implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);

    private final BearerToken token;

    public GrpcTokenCheck(BearerToken token) {
        this.token = token;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        try {
            token.check(headers.get(AUTHORIZATION));
        } catch (ServingException.Unauthorized e) {
            call.close(GrpcErrorMapper.status(e), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
    }
}
