package dev.torchlight.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class TensorTest {

    private static ByteBuffer littleEndianFloats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.flip();
    }

    @Test
    void acceptsExactlyShapeTimesElementSize() {
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2, 3}, ByteBuffer.allocate(24));

        assertThat(t.name()).isEqualTo("x");
        assertThat(t.dataType()).isEqualTo(DataType.FP32);
        assertThat(t.shape()).containsExactly(2, 3);
        assertThat(t.rank()).isEqualTo(2);
        assertThat(t.dim(1)).isEqualTo(3);
        assertThat(t.elementCount()).isEqualTo(6);
        assertThat(t.data().remaining()).isEqualTo(24);
    }

    @Test
    void rejectsTooFewBytes() {
        assertThatThrownBy(() -> new Tensor("x", DataType.FP32, new long[] {2, 3}, ByteBuffer.allocate(23)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'x'")
                .hasMessageContaining("[2, 3]")
                .hasMessageContaining("needs 24 bytes, got 23");
    }

    @Test
    void rejectsTooManyBytes() {
        assertThatThrownBy(() -> new Tensor("ids", DataType.INT64, new long[] {3}, ByteBuffer.allocate(32)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs 24 bytes, got 32");
    }

    @Test
    void sizeCountsFromThePositionToTheLimit() {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.position(4).limit(12);
        Tensor t = new Tensor("x", DataType.INT16, new long[] {4}, b);
        assertThat(t.data().remaining()).isEqualTo(8);
        assertThatThrownBy(() -> new Tensor("x", DataType.INT16, new long[] {8}, b))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void scalarHasOneElement() {
        Tensor t = new Tensor("s", DataType.FP64, new long[] {}, ByteBuffer.allocate(8));
        assertThat(t.elementCount()).isEqualTo(1);
        assertThat(t.rank()).isZero();
    }

    @Test
    void zeroSizedDimensionHoldsNoBytes() {
        Tensor t = new Tensor("e", DataType.FP32, new long[] {0, 5}, ByteBuffer.allocate(0));
        assertThat(t.elementCount()).isZero();
    }

    @Test
    void rejectsNegativeDimension() {
        assertThatThrownBy(() -> new Tensor("x", DataType.FP32, new long[] {-1, 2}, ByteBuffer.allocate(8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative dimension");
    }

    @Test
    void rejectsShapeWhoseByteSizeOverflowsInsteadOfWrappingToZero() {
        // 2^62 FP32 elements are 2^64 bytes, which wraps to 0 in a long.
        assertThatThrownBy(() -> new Tensor("x", DataType.FP32, new long[] {1L << 62}, ByteBuffer.allocate(0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too large");
        assertThatThrownBy(() -> new Tensor("x", DataType.UINT8, new long[] {1L << 32, 1L << 32},
                ByteBuffer.allocate(0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too large");
    }

    @Test
    void dataIsLittleEndianWhateverTheCallersByteOrder() {
        ByteBuffer b = littleEndianFloats(1.5f, -2.25f).order(ByteOrder.BIG_ENDIAN);
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2}, b);

        ByteBuffer data = t.data();
        assertThat(data.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.position()).isZero();
        assertThat(data.getFloat(0)).isEqualTo(1.5f);
        assertThat(data.getFloat(4)).isEqualTo(-2.25f);
        assertThat(t.withName("y").data().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void dataIsReadOnly() {
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2}, littleEndianFloats(1, 2));
        ByteBuffer data = t.data();

        assertThat(data.isReadOnly()).isTrue();
        assertThatThrownBy(() -> data.putFloat(0, 9f)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(t.data().getFloat(0)).isEqualTo(1f);
    }

    @Test
    void eachDataViewHasItsOwnPosition() {
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2}, littleEndianFloats(1, 2));
        ByteBuffer first = t.data();
        first.getFloat();
        first.getFloat();

        assertThat(first.remaining()).isZero();
        assertThat(t.data().remaining()).isEqualTo(8);
    }

    @Test
    void dataIsAViewNotACopy() {
        ByteBuffer b = littleEndianFloats(1, 2);
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2}, b);
        b.putFloat(4, 7f);
        assertThat(t.data().getFloat(4)).isEqualTo(7f);
    }

    @Test
    void constructorDoesNotMoveTheCallersBuffer() {
        ByteBuffer b = littleEndianFloats(1, 2);
        new Tensor("x", DataType.FP32, new long[] {2}, b);
        assertThat(b.position()).isZero();
        assertThat(b.limit()).isEqualTo(8);
    }

    @Test
    void shapeIsACopyBothWays() {
        long[] shape = {2, 2};
        Tensor t = new Tensor("x", DataType.UINT8, shape, ByteBuffer.allocate(4));
        shape[0] = 99;
        long[] returned = t.shape();
        returned[1] = 77;

        assertThat(t.shape()).containsExactly(2, 2);
        assertThat(t.dim(0)).isEqualTo(2);
    }

    @Test
    void withNameKeepsTypeShapeAndData() {
        Tensor t = new Tensor("x", DataType.FP32, new long[] {2}, littleEndianFloats(3, 4));
        Tensor renamed = t.withName("y");

        assertThat(renamed.name()).isEqualTo("y");
        assertThat(renamed.dataType()).isEqualTo(DataType.FP32);
        assertThat(renamed.shape()).containsExactly(2);
        assertThat(renamed.data().getFloat(4)).isEqualTo(4f);
        assertThat(t.name()).isEqualTo("x");
    }

    @Test
    void shapesFormatAndCount() {
        assertThat(Shapes.format(new long[] {1, 3, 32, 32})).isEqualTo("[1, 3, 32, 32]");
        assertThat(Shapes.format(new long[] {})).isEqualTo("[]");
        assertThat(Shapes.elementCount(new long[] {2, 3, 4})).isEqualTo(24);
        assertThat(Shapes.elementCount(new long[] {})).isEqualTo(1);
    }
}
