package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.IntraOpBudget;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model instance in the engine library. Each call checks its inputs against the config (count,
 * datatype, rank) before anything native happens, runs the model on the inputs in place (see
 * {@link CallFrame}), copies the outputs to heap buffers and frees the library's at once: outputs
 * outlive the call and cross threads, and native memory freed by the garbage collector would grow
 * unseen by it.
 *
 * <p>A model computing in FP16 or BF16 returns its floating-point outputs in that type; the library
 * casts them back to the declared types. The library's notices (a CUDA graph that could not be
 * captured, say) are logged once each, after the load and after the run that gave them.
 */
final class LibTorchModel implements LoadedModel {
    private static final Logger LOG = LoggerFactory.getLogger(LibTorchModel.class);

    private final EngineLibrary library;
    private final String name;
    private final String context;
    private final Placement placement;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final MemorySegment handle;
    private final Runnable release;
    private final CallFrame frame;
    private final IntraOpBudget.Lease intraOpThreads;
    private final String stream;
    /** The notice last logged; only the worker's thread touches it. */
    private String notice = "";
    private volatile boolean closed;

    /** Takes ownership of {@code handle} and {@code intraOpThreads}; frees the handle on close. */
    LibTorchModel(EngineLibrary library, ModelConfig config, Placement placement, MemorySegment handle,
            IntraOpBudget.Lease intraOpThreads) {
        this(library, config, placement, handle, intraOpThreads, () -> library.free(handle));
    }

    /**
     * Takes ownership of {@code intraOpThreads}; {@code release} gives the handle back on close (a
     * shared one to its {@link SharedModules}).
     */
    LibTorchModel(EngineLibrary library, ModelConfig config, Placement placement, MemorySegment handle,
            IntraOpBudget.Lease intraOpThreads, Runnable release) {
        this.library = library;
        this.name = config.name();
        this.context = "model '" + name + "': ";
        this.placement = placement;
        this.inputs = config.modelInputs();
        this.outputs = config.outputs();
        this.handle = handle;
        this.release = release;
        this.intraOpThreads = intraOpThreads;
        long streamId = library.streamId(handle);
        this.stream = streamId < 0 ? "" : placement + "/stream " + streamId;
        this.frame = new CallFrame(inputs.size(), floatOutputCodes(config),
                placement.kind() == Placement.Kind.GPU && config.engine().gpu().pinnedBuffers()
                        ? pinnedMemory(library) : null);
        logNewNotice();
    }

    private static CallFrame.PinnedMemory pinnedMemory(EngineLibrary library) {
        return new CallFrame.PinnedMemory() {
            @Override
            public MemorySegment allocate(long bytes) {
                return library.pinnedAlloc(bytes);
            }

            @Override
            public void free(MemorySegment block) {
                library.pinnedFree(block);
            }
        };
    }

    /**
     * The {@code float_outputs} of each run: none at the precision the model was saved in; else the
     * declared floating-point type of each output, by position. When every declared floating-point
     * output has the same type, every position gets it, so that a dict's outputs, matched by key
     * after the run, are cast right whatever order the model returns them in.
     */
    static int[] floatOutputCodes(ModelConfig config) {
        if (config.engine().precision() == Precision.FP32) {
            return new int[0];
        }
        List<TensorSpec> specs = config.outputs();
        Set<DataType> floating = specs.stream().map(TensorSpec::dataType).filter(DataType::isFloatingPoint)
                .collect(Collectors.toSet());
        int[] codes = new int[specs.size()];
        for (int i = 0; i < codes.length; i++) {
            DataType type = floating.size() == 1 ? floating.iterator().next() : specs.get(i).dataType();
            codes[i] = type.isFloatingPoint() ? DataTypeCodes.code(type) : -1;
        }
        return codes;
    }

    /** {@code cuda:N/stream S} for an instance on a GPU, else "". */
    @Override
    public String stream() {
        return stream;
    }

    /** The library's latest notice for this model, as last logged; "" when there was none. */
    String notice() {
        return notice;
    }

    /** Logs the library's notice for this model if it is new. */
    private void logNewNotice() {
        String latest = library.notice(handle);
        if (!latest.isEmpty() && !latest.equals(notice)) {
            notice = latest;
            LOG.warn("model '{}' on {}: {}", name, placement, latest);
        }
    }

    @Override
    public List<Tensor> infer(List<Tensor> values) {
        return run(values, intraOpThreads.threads());
    }

    /**
     * One intra-op thread: OpenMP would give the calling thread a team of its own, and once the
     * process holds more OpenMP threads than cores every team sleeps after each parallel region
     * ({@link IntraOpBudget}). Such runs are short by the scheduler's rule anyway.
     */
    @Override
    public List<Tensor> inferOnCaller(List<Tensor> values) {
        return run(values, 1);
    }

    private List<Tensor> run(List<Tensor> values, int threads) {
        if (closed) {
            throw new EngineException("model '" + name + "' is closed");
        }
        checkInputs(values);
        MemorySegment tensors = frame.describe(values);
        // libtorch keeps the count per thread, and the worker's thread need not be the loader's.
        library.applyIntraOpThreads(threads);
        library.run(handle, tensors, values.size(), frame.floatOutputs(), frame.floatOutputCount(),
                frame.outputsHandle(), context);
        Reference.reachabilityFence(values);
        logNewNotice();
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
        EngineLibrary.OutputSlots slots = frame.outputSlots();
        for (int i = 0; i < count; i++) {
            library.output(results, i, slots, context);
            returned.add(NativeOutput.from(slots.all()));
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
            release.run();
            frame.close();
            intraOpThreads.close();
        }
    }
}
