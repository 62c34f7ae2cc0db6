package dev.torchlight.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatchTensorsTest {

    /** {@code [rows, 3]} of {@code type}, every byte distinct per request: (seed, byte index). */
    private static Tensor tensor(String name, DataType type, int rows, int seed, long... rest) {
        long[] shape = new long[rest.length + 1];
        shape[0] = rows;
        System.arraycopy(rest, 0, shape, 1, rest.length);
        int bytes = (int) (Arrays.stream(shape).reduce(1, Math::multiplyExact) * type.byteSize());
        ByteBuffer b = ByteBuffer.allocate(bytes);
        for (int i = 0; i < bytes; i++) {
            b.put((byte) (seed * 31 + i));
        }
        return new Tensor(name, type, shape, b.flip());
    }

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = t.data();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static PendingRequest request(List<Tensor> inputs) {
        int rows = (int) inputs.get(0).dim(0);
        return new PendingRequest(inputs, rows, ShapeKey.of(inputs, true), 1, 0, PendingRequest.NO_DEADLINE,
                new Fixtures.FutureAnswer());
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer all = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            all.put(p);
        }
        return all.array();
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void gatherConcatenatesRowsIntoOneDirectLittleEndianBufferAndSplitSlicesThemBack(DataType type) {
        List<PendingRequest> batch = List.of(
                request(List.of(tensor("x", type, 1, 1, 3))),
                request(List.of(tensor("x", type, 2, 2, 3))),
                request(List.of(tensor("x", type, 1, 3, 3))));

        List<Tensor> gathered = BatchTensors.gather(batch, 4);

        assertThat(gathered).hasSize(1);
        Tensor x = gathered.get(0);
        assertThat(x.name()).isEqualTo("x");
        assertThat(x.dataType()).isEqualTo(type);
        assertThat(x.shape()).containsExactly(4, 3);
        assertThat(x.data().isDirect()).isTrue();
        assertThat(x.data().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        byte[] expected = concat(bytes(batch.get(0).inputs().get(0)), bytes(batch.get(1).inputs().get(0)),
                bytes(batch.get(2).inputs().get(0)));
        assertThat(bytes(x)).containsExactly(expected);
        assertThat(expected).hasSize(4 * 3 * type.byteSize());

        // An engine that echoes its input: each request gets exactly its own rows back.
        List<List<Tensor>> split = BatchTensors.split(List.of(x.withName("y")), batch, 4, true);
        assertThat(split).hasSize(3);
        for (int j = 0; j < 3; j++) {
            Tensor own = split.get(j).get(0);
            assertThat(own.name()).isEqualTo("y");
            assertThat(own.dataType()).isEqualTo(type);
            assertThat(own.shape()).containsExactly(batch.get(j).rows(), 3);
            assertThat(bytes(own)).containsExactly(bytes(batch.get(j).inputs().get(0)));
        }
    }

    @Test
    void severalInputsAndOutputsOfDifferentShapesAndTypes() {
        List<PendingRequest> batch = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            batch.add(request(List.of(tensor("a", DataType.FP32, j + 1, j, 2, 2), tensor("b", DataType.INT8, j + 1, 10 + j))));
        }
        List<Tensor> gathered = BatchTensors.gather(batch, 6);
        assertThat(gathered).extracting(Tensor::name).containsExactly("a", "b");
        assertThat(gathered.get(0).shape()).containsExactly(6, 2, 2);
        assertThat(gathered.get(1).shape()).containsExactly(6);

        // Outputs in another order and of other widths than the inputs.
        List<Tensor> outputs = List.of(tensor("p", DataType.INT64, 6, 7), tensor("q", DataType.FP16, 6, 8, 5));
        List<List<Tensor>> split = BatchTensors.split(outputs, batch, 6, true);

        byte[] p = bytes(outputs.get(0));
        byte[] q = bytes(outputs.get(1));
        int row = 0;
        for (int j = 0; j < 3; j++) {
            int rows = j + 1;
            List<Tensor> own = split.get(j);
            assertThat(own).extracting(Tensor::name).containsExactly("p", "q");
            assertThat(own.get(0).shape()).containsExactly(rows);
            assertThat(own.get(1).shape()).containsExactly(rows, 5);
            assertThat(bytes(own.get(0))).containsExactly(Arrays.copyOfRange(p, row * 8, (row + rows) * 8));
            assertThat(bytes(own.get(1))).containsExactly(Arrays.copyOfRange(q, row * 10, (row + rows) * 10));
            row += rows;
        }
    }

    @Test
    void aBatchOfOneRequestPassesItsTensorsThroughWithoutACopy() {
        List<Tensor> inputs = List.of(tensor("x", DataType.FP32, 2, 1, 3));
        PendingRequest only = request(inputs);
        assertThat(BatchTensors.gather(List.of(only), 2)).isSameAs(only.inputs());

        List<Tensor> outputs = List.of(tensor("y", DataType.FP32, 2, 4, 3));
        List<List<Tensor>> split = BatchTensors.split(outputs, List.of(only), 2, true);
        assertThat(split).hasSize(1);
        assertThat(split.get(0)).isSameAs(outputs);
    }

    @Test
    void anUnbatchedModelsOutputsPassThroughWhateverTheirShape() {
        PendingRequest only = request(List.of(tensor("x", DataType.FP32, 2, 1, 3)));
        List<Tensor> outputs = List.of(tensor("y", DataType.FP32, 7, 1));
        assertThat(BatchTensors.split(outputs, List.of(only), 1, false).get(0)).isSameAs(outputs);
    }

    @Test
    void outputsWithoutOneRowPerBatchRowAreAMismatch() {
        List<PendingRequest> batch = List.of(request(List.of(tensor("x", DataType.FP32, 1, 1, 3))),
                request(List.of(tensor("x", DataType.FP32, 3, 2, 3))));
        assertThatThrownBy(() -> BatchTensors.split(List.of(tensor("y", DataType.FP32, 3, 1)), batch, 4, true))
                .isInstanceOf(BatchTensors.RowMismatch.class)
                .hasMessage("model returned 3 rows in output 'y' for a batch of 4 rows");
        Tensor scalar = new Tensor("s", DataType.FP32, new long[0], ByteBuffer.allocate(4));
        assertThatThrownBy(() -> BatchTensors.split(List.of(scalar), batch, 4, true))
                .isInstanceOf(BatchTensors.RowMismatch.class)
                .hasMessageContaining("a scalar in output 's'");
        assertThatThrownBy(() -> BatchTensors.split(List.of(tensor("y", DataType.FP32, 1, 1)), batch.subList(0, 1),
                        2, true))
                .as("also for a single request of a batched model")
                .isInstanceOf(BatchTensors.RowMismatch.class);
    }

    @Test
    void shapeKeysSeparateNonBatchShapesOnly() {
        List<Tensor> a = List.of(tensor("x", DataType.FP32, 1, 1, 3), tensor("z", DataType.FP32, 1, 1));
        List<Tensor> b = List.of(tensor("x", DataType.FP32, 4, 1, 3), tensor("z", DataType.FP32, 4, 1));
        List<Tensor> c = List.of(tensor("x", DataType.FP32, 1, 1, 4), tensor("z", DataType.FP32, 1, 1));
        List<Tensor> d = List.of(tensor("x", DataType.FP32, 1, 1, 3, 1), tensor("z", DataType.FP32, 1, 1));
        assertThat(ShapeKey.of(a, true)).isEqualTo(ShapeKey.of(b, true)).hasSameHashCodeAs(ShapeKey.of(b, true));
        assertThat(ShapeKey.of(a, true)).isNotEqualTo(ShapeKey.of(c, true)).isNotEqualTo(ShapeKey.of(d, true));
        assertThat(ShapeKey.of(a, false)).isNotEqualTo(ShapeKey.of(b, false));
    }
}
