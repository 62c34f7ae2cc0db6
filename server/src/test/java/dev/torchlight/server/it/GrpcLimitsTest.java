package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Messages over --max-request-size are refused cleanly and the connection keeps serving. */
class GrpcLimitsTest {

    @Test
    void oversizedMessageIsResourceExhaustedAndTheChannelStaysUsable() throws InterruptedException {
        try (ServerHarness harness = new ServerHarness(TestData.models(), List.of("mlp"), 64 * 1024)) {
            ManagedChannel channel = GrpcEndpointsTest.channel(harness);
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                ModelInferRequest big = ModelInferRequest.newBuilder()
                        .setModelName("mlp")
                        .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                                .setName("input").setDatatype("FP32").addShape(400).addShape(64))
                        .addRawInputContents(ByteString.copyFrom(new byte[400 * 64 * 4]))
                        .build();

                assertThatThrownBy(() -> stub.modelInfer(big))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                            assertThat(e.getStatus().getDescription()).contains("65536");
                        });
                assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
