package dev.torchlight.bench.load;

import java.util.Arrays;

/**
 * One model input as the server's metadata declares it.
 *
 * @param name input name
 * @param datatype element type
 * @param shape dimensions; -1 is variable, and a leading -1 is the batch dimension
 */
record InputSpec(String name, Datatype datatype, long[] shape) {

    InputSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The shape data is made in: a leading -1 becomes {@code batch}, any other -1 becomes 1. */
    long[] concreteShape(int batch) {
        long[] concrete = shape.clone();
        for (int i = 0; i < concrete.length; i++) {
            if (concrete[i] == -1) {
                concrete[i] = i == 0 ? batch : 1;
            }
        }
        return concrete;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputSpec other && name.equals(other.name) && datatype == other.datatype
                && Arrays.equals(shape, other.shape);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + datatype.hashCode()) + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + datatype + Arrays.toString(shape);
    }
}
