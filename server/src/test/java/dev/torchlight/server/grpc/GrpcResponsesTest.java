package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.Tensor;
import inference.ModelInferResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * raw_output_contents wrap the output's buffer: building the reply copies nothing, and serialising
 * it (what gRPC's marshaller does into its transport buffers) streams the output's bytes through
 * the encoder's small buffer, allocating nothing of the output's size.
 */
class GrpcResponsesTest {
    /** The logits of one 128^3 volume with 2 classes. */
    private static final int FLOATS = 2 * 128 * 128 * 128;

    private static ByteBuffer values() {
        ByteBuffer data = ByteBuffer.allocate(FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FLOATS; i++) {
            data.putFloat(i * 0.25f - 7f);
        }
        return data.flip();
    }

    /** A response whose output is a view of {@code data}, as the engine's outputs are. */
    private static InferenceResponse response(ByteBuffer data) {
        Tensor logits = new Tensor("logits", DataType.FP32, new long[] {1, 2, 128, 128, 128}, data);
        return new InferenceResponse("unet3d", 1, "ct-1", List.of(logits));
    }

    private static long allocatedBy(Runnable work) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        work.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    @Test
    void rawContentsAreTheOutputsBytes() throws IOException {
        InferenceResponse response = response(values());
        ModelInferResponse reply = ModelInferResponse.parseFrom(GrpcResponses.infer(response, true).toByteArray());

        assertThat(reply.getOutputs(0).getShapeList()).containsExactly(1L, 2L, 128L, 128L, 128L);
        assertThat(reply.getRawOutputContentsCount()).isEqualTo(1);
        assertThat(reply.getRawOutputContents(0).asReadOnlyByteBuffer()).isEqualTo(response.outputs().get(0).data());
    }

    @Test
    void theOutputIsWrappedWhenBuiltAndWrittenOnceWhenSerialised() throws IOException {
        ByteBuffer values = values();
        InferenceResponse response = response(values);
        GrpcResponses.infer(response(values()), true).writeTo(OutputStream.nullOutputStream()); // class loading
        ModelInferResponse[] reply = new ModelInferResponse[1];

        long building = allocatedBy(() -> reply[0] = GrpcResponses.infer(response, true));
        long[] written = new long[1];
        long serialising = allocatedBy(() -> {
            try {
                reply[0].writeTo(new OutputStream() {
                    @Override
                    public void write(int b) {
                        written[0]++;
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        written[0] += len;
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        // The reply aliases the output: what the output's buffer holds now is what it sends.
        values.putFloat(0, 42f);

        assertThat(written[0]).isEqualTo(reply[0].getSerializedSize());
        assertThat(reply[0].getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(0))
                .isEqualTo(42f);
        assertThat(building).as("bytes allocated to build the reply of a %d-byte output", FLOATS * 4)
                .isLessThan(FLOATS * 4 / 16);
        assertThat(serialising).as("bytes allocated to serialise it").isLessThan(FLOATS * 4 / 16);
    }
}
