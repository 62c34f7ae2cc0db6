package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import inference.ModelInferRequest;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Raw contents are views of the one array the message is read into, not copies of it. */
class AliasingMarshallerTest {
    private static final int SIZE = 4 << 20;

    private static ModelInferRequest message() {
        byte[] data = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            data[i] = (byte) i;
        }
        return ModelInferRequest.newBuilder().setModelName("m").addRawInputContents(ByteString.copyFrom(data)).build();
    }

    private static long allocatedBy(Runnable work) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        work.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    /** What the transport hands a marshaller: a stream that knows its length. */
    private static final class KnownLengthStream extends ByteArrayInputStream implements io.grpc.KnownLength {
        KnownLengthStream(byte[] bytes) {
            super(bytes);
        }
    }

    @Test
    void parsingReadsTheMessageOnceAndSlicesIt() {
        byte[] wire = message().toByteArray();
        AliasingMarshaller aliasing = new AliasingMarshaller();
        var stock = ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());
        ModelInferRequest[] parsed = new ModelInferRequest[1];
        aliasing.parse(new ByteArrayInputStream(wire)); // warm up class loading

        long ours = allocatedBy(() -> parsed[0] = aliasing.parse(new KnownLengthStream(wire)));
        long theirs = allocatedBy(() -> stock.parse(new ByteArrayInputStream(wire)));

        assertThat(parsed[0]).isEqualTo(message());
        assertThat(ours).as("one array of the message's size").isBetween((long) SIZE, SIZE + SIZE / 8L);
        assertThat(theirs).as("the stock parser copies the contents once more").isGreaterThan(SIZE + SIZE / 2L);
    }
}
