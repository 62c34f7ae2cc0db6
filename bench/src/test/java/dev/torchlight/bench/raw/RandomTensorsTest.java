package dev.torchlight.bench.raw;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.config.ValueRange;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RandomTensorsTest {
    @Test
    void integersOfAnInputWithAValueRangeAreDrawnFromAllOfIt() {
        TensorSpec ids = new TensorSpec("ids", DataType.INT64, new long[] {4}, false, new ValueRange(1000, 1003));

        Tensor t = RandomTensors.of(List.of(ids), 64, 7).getFirst();

        Set<Long> seen = new HashSet<>();
        ByteBuffer data = t.data();
        while (data.hasRemaining()) {
            seen.add(data.getLong());
        }
        assertThat(seen).containsExactlyInAnyOrder(1000L, 1001L, 1002L, 1003L);
    }
}
