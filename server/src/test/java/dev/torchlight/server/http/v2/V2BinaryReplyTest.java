package dev.torchlight.server.http.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.Tensor;
import dev.torchlight.server.inference.RequestControls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A binary reply is its JSON header followed by the output's own bytes: the output buffer is
 * wrapped into the body, not copied (a 3D volume's logits are 16 MiB).
 */
class V2BinaryReplyTest {
    /** The logits of one 128^3 volume with 2 classes. */
    private static final int FLOATS = 2 * 128 * 128 * 128;
    /** Heap allocation only: a copy of the output through this allocator would be counted. */
    private static final UnpooledByteBufAllocator HEAP = new UnpooledByteBufAllocator(false);

    private static ByteBuffer values() {
        ByteBuffer data = ByteBuffer.allocate(FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FLOATS; i++) {
            data.putFloat(i * 0.25f - 7f);
        }
        return data.flip();
    }

    /** A tensor over {@code data}: a view, as the engine's outputs are. */
    private static Tensor logits(ByteBuffer data) {
        return new Tensor("logits", DataType.FP32, new long[] {1, 2, 128, 128, 128}, data);
    }

    private static FullHttpResponse render(Tensor output) throws IOException {
        V2Request request = new V2Request("ct-1", List.of(), List.of(), List.of(), RequestControls.NONE, true, Map.of());
        return V2BinaryReply.of(new InferenceResponse("unet3d", 1, "ct-1", List.of(output)), request).render(HEAP);
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void bodyIsTheJsonHeaderThenTheOutputsBytes() throws IOException {
        Tensor output = logits(values());
        FullHttpResponse response = render(output);
        try {
            ByteBuf body = response.content();
            int headerLength = response.headers().getInt(V2BinaryReply.HEADER_LENGTH);
            byte[] header = new byte[headerLength];
            body.getBytes(0, header);
            JsonNode json = new ObjectMapper().readTree(header);
            assertThat(json.get("id").asText()).isEqualTo("ct-1");
            JsonNode out = json.get("outputs").get(0);
            assertThat(out.get("name").asText()).isEqualTo("logits");
            assertThat(out.get("parameters").get("binary_data_size").asInt()).isEqualTo(FLOATS * 4);
            assertThat(body.readableBytes()).isEqualTo(headerLength + FLOATS * 4);
            ByteBuffer data = body.nioBuffer(headerLength, FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(data).isEqualTo(output.data());
        } finally {
            response.release();
        }
    }

    @Test
    void theOutputIsWrappedNotCopied() throws IOException {
        ByteBuffer values = values();
        Tensor output = logits(values);
        render(logits(values())).release(); // class loading and Jackson's first use
        long before = allocatedByThisThread();
        FullHttpResponse response = render(output);
        long allocated = allocatedByThisThread() - before;
        try {
            int headerLength = response.headers().getInt(V2BinaryReply.HEADER_LENGTH);
            // The body shares the output's memory: what the output's buffer holds now is what it sends.
            values.putFloat(0, 42f);
            values.putFloat(FLOATS * 4 - 4, -42f);
            ByteBuf body = response.content();
            assertThat(body.getFloatLE(headerLength)).isEqualTo(42f);
            assertThat(body.getFloatLE(body.writerIndex() - 4)).isEqualTo(-42f);
            assertThat(allocated).as("bytes allocated to render a %d-byte output", FLOATS * 4).isLessThan(FLOATS * 4 / 16);
        } finally {
            response.release();
        }
    }
}
