package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.config.ValueRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class ValueRangeCheckTest {
    private static final TensorSpec IDS = new TensorSpec("ids", DataType.INT64, new long[] {-1}, false,
            new ValueRange(0, 19_999_999));

    private static Tensor tensor(DataType type, long[] shape, long... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (type) {
                case INT64 -> data.putLong(v);
                case INT32 -> data.putInt((int) v);
                case INT16 -> data.putShort((short) v);
                case INT8, UINT8 -> data.put((byte) v);
                default -> throw new IllegalArgumentException(type.name());
            }
        }
        return new Tensor("ids", type, shape, data.flip());
    }

    @Test
    void bothEndsOfTheRangeAreAllowed() {
        assertThatCode(() -> ValueRangeCheck.check(IDS, tensor(DataType.INT64, new long[] {2, 2}, 0, 19_999_999, 7, 0)))
                .doesNotThrowAnyException();
    }

    @Test
    void theFirstElementOutsideIsNamedWithItsIndexValueAndTheRange() {
        Tensor ids = tensor(DataType.INT64, new long[] {2, 3}, 1, 2, 3, 4, 20_000_000, -1);

        assertThatThrownBy(() -> ValueRangeCheck.check(IDS, ids))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'ids': element 4 (at [1, 1]) is 20000000, outside the input's value_range"
                        + " [0, 19999999] (both ends allowed)");
    }

    @Test
    void aNegativeIdIsOutsideAndLongExtremesAreReadWhole() {
        assertThatThrownBy(() -> ValueRangeCheck.check(IDS, tensor(DataType.INT64, new long[] {1, 1}, -1)))
                .hasMessageContaining("element 0 (at [0, 0]) is -1");
        assertThatThrownBy(() -> ValueRangeCheck.check(IDS, tensor(DataType.INT64, new long[] {2}, 5, Long.MIN_VALUE)))
                .hasMessageContaining("element 1 (at [1]) is " + Long.MIN_VALUE);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"UINT8", "INT8", "INT16", "INT32", "INT64"})
    void everyIntegerTypeIsReadAtItsWidthAndSign(DataType type) {
        TensorSpec spec = new TensorSpec("ids", type, new long[] {-1}, false, new ValueRange(0, 100));
        assertThatCode(() -> ValueRangeCheck.check(spec, tensor(type, new long[] {1, 3}, 0, 100, 50)))
                .doesNotThrowAnyException();
        // 0xFF is 255 as UINT8 and -1 as INT8; little-endian order puts the low byte first.
        long bad = type == DataType.UINT8 ? 255 : -1;
        assertThatThrownBy(() -> ValueRangeCheck.check(spec, tensor(type, new long[] {1, 3}, 100, 0, bad)))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("element 2 (at [0, 2]) is " + bad + ", outside the input's value_range [0, 100]");
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"UINT8", "INT8", "INT16", "INT32", "INT64"})
    void withARangePerColumnEachColumnIsCheckedAgainstItsOwn(DataType type) {
        // Three categorical ids packed in one input: tables of 100, 10 and 50 rows.
        TensorSpec spec = new TensorSpec("ids", type, new long[] {3}, false,
                new ValueRange(new long[] {0, 0, 0}, new long[] {99, 9, 49}));
        assertThatCode(() -> ValueRangeCheck.check(spec, tensor(type, new long[] {2, 3}, 99, 9, 49, 0, 0, 0)))
                .doesNotThrowAnyException();
        // 12 is fine in column 0 and too large for column 1's ten rows.
        assertThatThrownBy(() -> ValueRangeCheck.check(spec, tensor(type, new long[] {2, 3}, 12, 3, 4, 12, 12, 4)))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'ids': element 4 (at [1, 1]) is 12, outside the value_range of its column, 1,"
                        + " [0, 9] (both ends allowed)");
    }

    @Test
    void anInputWithoutARangeIsNotRead() {
        TensorSpec free = new TensorSpec("ids", DataType.INT64, new long[] {-1});
        assertThatCode(() -> ValueRangeCheck.check(free, tensor(DataType.INT64, new long[] {1}, Long.MAX_VALUE)))
                .doesNotThrowAnyException();
    }
}
