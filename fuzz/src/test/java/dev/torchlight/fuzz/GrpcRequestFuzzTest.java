package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.server.grpc.GrpcRequests;
import inference.ModelInferRequest;
import java.io.IOException;

/**
 * The gRPC {@code ModelInfer} request conversion under fuzzed messages: every message that parses
 * as a {@code ModelInferRequest} becomes an inference request, or is refused with
 * {@link ServingException.InvalidInput} and a message; nothing else may escape. Bytes that are no
 * such message are the transport's to refuse (INVALID_ARGUMENT before the service sees them), so
 * they end the input early.
 */
class GrpcRequestFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void convertsOrRefusesWithAClearError(byte[] message) {
        ModelInferRequest request;
        try {
            request = parseAsTheServerDoes(message);
        } catch (InvalidProtocolBufferException notAMessage) {
            return;
        }
        try {
            InferenceRequest read = GrpcRequests.read(request, 0);
            for (Tensor input : read.inputs()) {
                assertThat(input.data().remaining()).isEqualTo(input.elementCount() * input.dataType().byteSize());
            }
        } catch (ServingException.InvalidInput expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /** As the server's marshaller: raw contents alias the message's bytes. */
    private static ModelInferRequest parseAsTheServerDoes(byte[] message) throws InvalidProtocolBufferException {
        CodedInputStream input = UnsafeByteOperations.unsafeWrap(message).newCodedInput();
        input.enableAliasing(true);
        input.setSizeLimit(Integer.MAX_VALUE);
        try {
            return ModelInferRequest.parseFrom(input);
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) {
            throw new AssertionError("reading an array fails only as a malformed message", e);
        }
    }
}
