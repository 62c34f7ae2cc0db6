package dev.torchlight.server.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@code ModelInferRequest}s so that their {@code bytes} fields (raw_input_contents) are
 * views of the message's own buffer: the message is read once from the transport into a fresh
 * array, which it then owns, and the tensors slice it. The stock marshaller copies each raw
 * content a second time into its own array.
 */
final class AliasingMarshaller implements MethodDescriptor.Marshaller<ModelInferRequest> {
    private static final MethodDescriptor.Marshaller<ModelInferRequest> STOCK =
            ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());

    @Override
    public InputStream stream(ModelInferRequest value) {
        return STOCK.stream(value);
    }

    @Override
    public ModelInferRequest parse(InputStream stream) {
        try {
            // Never reused: the parsed message's raw contents point into it.
            byte[] message = read(stream);
            CodedInputStream input = UnsafeByteOperations.unsafeWrap(message).newCodedInput();
            input.enableAliasing(true);
            input.setSizeLimit(Integer.MAX_VALUE); // the transport already enforced --max-request-size
            return ModelInferRequest.parseFrom(input);
        } catch (InvalidProtocolBufferException e) {
            throw Status.INVALID_ARGUMENT.withDescription("malformed ModelInferRequest: " + e.getMessage())
                    .withCause(e).asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read the request message").withCause(e).asRuntimeException();
        }
    }

    /** The whole message in one array of its exact size when the transport knows it (it does). */
    private static byte[] read(InputStream stream) throws IOException {
        if (!(stream instanceof KnownLength)) {
            return stream.readAllBytes();
        }
        byte[] message = new byte[stream.available()];
        int n = stream.readNBytes(message, 0, message.length);
        if (n != message.length || stream.read() != -1) {
            throw new IOException("the message is not " + message.length + " bytes long");
        }
        return message;
    }

    /** {@code service} with ModelInfer and ModelStreamInfer parsing their requests through this marshaller. */
    static ServerServiceDefinition apply(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor());
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            ServerMethodDefinition<?, ?> aliased = alias(method);
            methods.add(aliased);
            descriptor.addMethod(aliased.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder rebuilt = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(rebuilt::addMethod);
        return rebuilt.build();
    }

    @SuppressWarnings("unchecked")
    private static ServerMethodDefinition<?, ?> alias(ServerMethodDefinition<?, ?> method) {
        String name = method.getMethodDescriptor().getFullMethodName();
        if (!name.equals(GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName())
                && !name.equals(GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName())) {
            return method;
        }
        ServerMethodDefinition<ModelInferRequest, Object> typed = (ServerMethodDefinition<ModelInferRequest, Object>) method;
        MethodDescriptor<ModelInferRequest, Object> descriptor = typed.getMethodDescriptor().toBuilder()
                .setRequestMarshaller(new AliasingMarshaller())
                .build();
        ServerCallHandler<ModelInferRequest, Object> handler = typed.getServerCallHandler();
        return ServerMethodDefinition.create(descriptor, handler);
    }
}
