package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.IntraOpBudget;
import dev.torchlight.engine.LoadedModel;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * One model instance in the engine library. Each call checks its inputs against the config (count,
 * datatype, rank) before anything native happens, runs the model on the inputs in place (see
 * {@link CallFrame}), copies the outputs to heap buffers and frees the library's at once: outputs
 * outlive the call and cross threads, and native memory freed by the garbage collector would grow
 * unseen by it.
 */
final class LibTorchModel implements LoadedModel {
    private final EngineLibrary library;
    private final String name;
    private final String context;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final MemorySegment handle;
    private final CallFrame frame;
    private final IntraOpBudget.Lease intraOpThreads;
    private volatile boolean closed;

    /** Takes ownership of {@code handle} and {@code intraOpThreads}. */
    LibTorchModel(EngineLibrary library, ModelConfig config, MemorySegment handle, IntraOpBudget.Lease intraOpThreads) {
        this.library = library;
        this.name = config.name();
        this.context = "model '" + name + "': ";
        this.inputs = config.inputs();
        this.outputs = config.outputs();
        this.handle = handle;
        this.intraOpThreads = intraOpThreads;
        this.frame = new CallFrame(inputs.size());
    }

    @Override
    public List<Tensor> infer(List<Tensor> values) {
        if (closed) {
            throw new EngineException("model '" + name + "' is closed");
        }
        checkInputs(values);
        MemorySegment tensors = frame.describe(values);
        // libtorch keeps the count per thread, and the worker's thread need not be the loader's.
        library.applyIntraOpThreads(intraOpThreads.threads());
        library.run(handle, tensors, values.size(), frame.outputsHandle(), context);
        Reference.reachabilityFence(values);
        MemorySegment results = frame.outputsHandle().get(ADDRESS, 0);
        try {
            return read(results);
        } finally {
            library.freeOutputs(results);
        }
    }

    /** What the server validated already, checked again because a mistake here would reach native code. */
    private void checkInputs(List<Tensor> values) {
        if (values.size() != inputs.size()) {
            throw new EngineException("model '" + name + "' takes " + inputs.size() + " inputs, got " + values.size());
        }
        for (int i = 0; i < values.size(); i++) {
            Tensor tensor = values.get(i);
            TensorSpec spec = inputs.get(i);
            if (tensor.dataType() != spec.dataType()) {
                throw new EngineException("model '" + name + "': input '" + spec.name() + "' must be "
                        + spec.dataType() + ", got " + tensor.dataType());
            }
            if (tensor.rank() > EngineLibrary.MAX_DIMS) {
                throw new EngineException("model '" + name + "': input '" + spec.name() + "' has "
                        + tensor.rank() + " dimensions, at most " + EngineLibrary.MAX_DIMS + " are supported");
            }
        }
    }

    private List<Tensor> read(MemorySegment results) {
        int count = library.outputCount(results);
        if (count != outputs.size()) {
            throw new EngineException("model '" + name + "' returned " + count + " outputs, its config declares "
                    + outputs.size());
        }
        List<NativeOutput> returned = new ArrayList<>(count);
        MemorySegment slots = frame.outputSlots();
        for (int i = 0; i < count; i++) {
            library.output(results, i, slots, context);
            returned.add(NativeOutput.from(slots));
        }
        List<Tensor> tensors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            TensorSpec spec = outputs.get(i);
            tensors.add(toTensor(spec, matching(returned, i, spec)));
        }
        return tensors;
    }

    /**
     * The output for declared output {@code i}: by position for a tensor, tuple or list, by key for a
     * {@code Dict[str, Tensor]}.
     */
    private NativeOutput matching(List<NativeOutput> returned, int i, TensorSpec spec) {
        if (returned.get(i).key() == null) {
            return returned.get(i);
        }
        for (NativeOutput output : returned) {
            if (spec.name().equals(output.key())) {
                return output;
            }
        }
        TreeSet<String> keys = new TreeSet<>();
        returned.forEach(output -> keys.add(output.key()));
        throw new EngineException("model '" + name + "' returned a dict without key '" + spec.name()
                + "'; its keys are " + keys);
    }

    private Tensor toTensor(TensorSpec spec, NativeOutput output) {
        if (output.type() != spec.dataType()) {
            throw new EngineException("model '" + name + "' returned output '" + spec.name() + "' as "
                    + (output.type() == null ? "type code " + output.code() : output.type())
                    + ", its config declares " + spec.dataType());
        }
        long expected = Shapes.elementCount(output.shape()) * spec.dataType().byteSize();
        if (expected != output.data().byteSize() || expected > Integer.MAX_VALUE) {
            throw new EngineException("model '" + name + "' returned output '" + spec.name() + "' with shape "
                    + Arrays.toString(output.shape()) + " and " + output.data().byteSize()
                    + " bytes, which do not match or exceed 2 GiB");
        }
        ByteBuffer copy = ByteBuffer.allocate((int) expected);
        MemorySegment.copy(output.data(), 0, MemorySegment.ofBuffer(copy), 0, expected);
        return new Tensor(spec.name(), spec.dataType(), output.shape(), copy);
    }

    /** One output as the library describes it, valid until its outputs handle is freed. */
    @SuppressWarnings("restricted")
    private record NativeOutput(String key, int code, DataType type, long[] shape, MemorySegment data) {
        static NativeOutput from(MemorySegment slots) {
            MemorySegment key = slots.get(ADDRESS, EngineLibrary.OUTPUT_NAME);
            int code = slots.get(JAVA_INT, EngineLibrary.OUTPUT_DTYPE);
            int rank = slots.get(JAVA_INT, EngineLibrary.OUTPUT_NDIM);
            long bytes = slots.get(JAVA_LONG, EngineLibrary.OUTPUT_NBYTES);
            long[] shape = rank == 0 ? new long[0]
                    : slots.get(ADDRESS, EngineLibrary.OUTPUT_SHAPE).reinterpret((long) rank * Long.BYTES)
                            .toArray(JAVA_LONG);
            MemorySegment data = bytes == 0 ? MemorySegment.NULL
                    : slots.get(ADDRESS, EngineLibrary.OUTPUT_DATA).reinterpret(bytes);
            return new NativeOutput(key.equals(MemorySegment.NULL) ? null : EngineLibrary.string(key), code,
                    DataTypeCodes.type(code), shape, data);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            library.free(handle);
            frame.close();
            intraOpThreads.close();
        }
    }
}
