package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.torchlight.config.GpuSettings;
import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.DeviceMemory;
import dev.torchlight.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The engine library's C ABI ({@code src/main/native/torchlight_engine.h}) bound through FFM: one
 * method handle per function and the layouts of its structs. Every status other than
 * {@link #OK} becomes an {@link EngineException} carrying the library's message for it, read on the
 * calling thread right after the call (the library keeps it per thread).
 *
 * <p>The library is loaded into the process for good (the global arena): libtorch cannot be unloaded.
 * This class and {@link LibTorchModel} are the only users of FFM's restricted methods.
 */
@SuppressWarnings("restricted")
final class EngineLibrary {
    static final int OK = 0;
    static final int OUT_OF_MEMORY = 2;
    /** {@code TL_DEVICE_FAULT}: the device context is broken; the model must be loaded again. */
    static final int DEVICE_FAULT = 4;

    static final int TORCHSCRIPT = 0;
    static final int AOTI = 1;
    static final int DEVICE_CPU = 0;
    static final int DEVICE_CUDA = 1;
    /** {@code TL_AS_SAVED}: where the model's parts were saved (TorchScript only). */
    static final int DEVICE_AS_SAVED = 2;
    /** {@code TL_FP32} as a load precision: the module as saved. */
    static final int PRECISION_AS_SAVED = 8;

    static final int FEATURE_AOTI = 1;
    static final int FEATURE_CUDA = 2;

    /** Dimensions a tensor may have across the ABI. */
    static final int MAX_DIMS = 16;

    /** {@code tl_tensor}. */
    static final StructLayout TENSOR = MemoryLayout.structLayout(
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("ndim"),
            ADDRESS.withName("shape"),
            ADDRESS.withName("data"),
            JAVA_LONG.withName("nbytes"));

    /** {@code tl_load_options}. */
    static final StructLayout LOAD_OPTIONS = MemoryLayout.structLayout(
            JAVA_INT.withName("format"),
            JAVA_INT.withName("device_type"),
            JAVA_INT.withName("device_index"),
            JAVA_INT.withName("precision"),
            JAVA_INT.withName("optimize"),
            JAVA_INT.withName("cudnn_benchmark"),
            JAVA_INT.withName("cuda_graphs"),
            JAVA_INT.withName("pinned_buffers"));

    /** The result slots of {@code tl_output}, one struct so one allocation holds them all. */
    static final StructLayout OUTPUT = MemoryLayout.structLayout(
            ADDRESS.withName("name"),
            ADDRESS.withName("shape"),
            ADDRESS.withName("data"),
            JAVA_LONG.withName("nbytes"),
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("ndim"));

    static final long OUTPUT_NAME = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("name"));
    static final long OUTPUT_SHAPE = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("shape"));
    static final long OUTPUT_DATA = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("data"));
    static final long OUTPUT_NBYTES = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("nbytes"));
    static final long OUTPUT_DTYPE = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("dtype"));
    static final long OUTPUT_NDIM = OUTPUT.byteOffset(MemoryLayout.PathElement.groupElement("ndim"));

    /**
     * An {@link #OUTPUT} and a view of each of its slots, which {@code tl_output} takes one by one:
     * made once per model instance, so that reading an output allocates no views.
     */
    record OutputSlots(MemorySegment all, MemorySegment name, MemorySegment dtype, MemorySegment ndim,
            MemorySegment shape, MemorySegment data, MemorySegment nbytes) {
        static OutputSlots of(MemorySegment all) {
            return new OutputSlots(all, all.asSlice(OUTPUT_NAME), all.asSlice(OUTPUT_DTYPE), all.asSlice(OUTPUT_NDIM),
                    all.asSlice(OUTPUT_SHAPE), all.asSlice(OUTPUT_DATA), all.asSlice(OUTPUT_NBYTES));
        }
    }

    private final LibraryFile file;
    private final MethodHandle lastError;
    private final MethodHandle libtorchVersion;
    private final MethodHandle buildFeatures;
    private final MethodHandle cudaDeviceCount;
    private final MethodHandle cudaMemoryInfo;
    private final MethodHandle cudaAllocatorStats;
    private final MethodHandle cudaEmptyCache;
    private final MethodHandle pinnedAlloc;
    private final MethodHandle pinnedFree;
    private final MethodHandle setIntraOpThreads;
    private final MethodHandle getIntraOpThreads;
    private final MethodHandle modelLoad;
    private final MethodHandle modelFree;
    private final MethodHandle modelShare;
    private final MethodHandle modelStream;
    private final MethodHandle modelNotice;
    private final MethodHandle modelRun;
    private final MethodHandle outputsCount;
    private final MethodHandle output;
    private final MethodHandle outputsFree;
    /**
     * The intra-op thread count last set on each thread, so that a call sets it only on change. Static
     * because the setting is libtorch's, and one libtorch serves every engine of the process.
     */
    private static final ThreadLocal<int[]> APPLIED_THREADS = ThreadLocal.withInitial(() -> new int[] {-1});

    private EngineLibrary(LibraryFile file, SymbolLookup symbols) {
        this.file = file;
        Linker linker = Linker.nativeLinker();
        Binder bind = new Binder(linker, symbols);
        // Short calls that never block or call back may skip the thread state transition.
        Linker.Option quick = Linker.Option.critical(false);
        lastError = bind.function("tl_last_error", FunctionDescriptor.of(ADDRESS), quick);
        libtorchVersion = bind.function("tl_libtorch_version", FunctionDescriptor.of(ADDRESS), quick);
        buildFeatures = bind.function("tl_build_features", FunctionDescriptor.of(JAVA_INT), quick);
        cudaDeviceCount = bind.function("tl_cuda_device_count", FunctionDescriptor.of(JAVA_INT));
        cudaMemoryInfo = bind.function("tl_cuda_memory_info",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        cudaAllocatorStats = bind.function("tl_cuda_allocator_stats",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cudaEmptyCache = bind.function("tl_cuda_empty_cache", FunctionDescriptor.of(JAVA_INT));
        pinnedAlloc = bind.function("tl_pinned_alloc", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
        pinnedFree = bind.function("tl_pinned_free", FunctionDescriptor.ofVoid(ADDRESS));
        setIntraOpThreads = bind.function("tl_set_intra_op_threads", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        getIntraOpThreads = bind.function("tl_get_intra_op_threads", FunctionDescriptor.of(JAVA_INT), quick);
        modelLoad = bind.function("tl_model_load", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        modelFree = bind.function("tl_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        modelShare = bind.function("tl_model_share", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        modelStream = bind.function("tl_model_stream", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), quick);
        modelNotice = bind.function("tl_model_notice", FunctionDescriptor.of(ADDRESS, ADDRESS), quick);
        modelRun = bind.function("tl_model_run",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        outputsCount = bind.function("tl_outputs_count", FunctionDescriptor.of(JAVA_INT, ADDRESS), quick);
        output = bind.function("tl_output", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS), quick);
        outputsFree = bind.function("tl_outputs_free", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /**
     * Loads the library {@code file} names into the process.
     *
     * @throws EngineException when libtorch is gone or the dynamic loader refuses the library (the
     *     message carries the loader's)
     */
    static EngineLibrary load(LibraryFile file) {
        file.checkLibtorch();
        SymbolLookup symbols;
        try {
            symbols = SymbolLookup.libraryLookup(file.library(), Arena.global());
        } catch (IllegalArgumentException e) {
            throw new EngineException("cannot load the engine library " + file.library() + ": " + e.getMessage()
                    + (file.libtorchDir() == null ? "" : " (it needs libtorch " + file.libtorchVersion()
                            + " from " + file.libtorchDir() + ")"), e);
        }
        return new EngineLibrary(file, symbols);
    }

    LibraryFile file() {
        return file;
    }

    /** The libtorch version the library runs with, e.g. {@code 2.13.0}. */
    String libtorchVersion() {
        try {
            return string((MemorySegment) libtorchVersion.invokeExact());
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /** {@link #FEATURE_AOTI} and {@link #FEATURE_CUDA} bits. */
    int features() {
        try {
            return (int) buildFeatures.invokeExact();
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    int cudaDeviceCount() {
        try {
            return (int) cudaDeviceCount.invokeExact();
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /**
     * GPU {@code device}'s free and total memory as the driver reports it; the caller checks that the
     * build has CUDA and the device is visible.
     */
    DeviceMemory cudaMemoryInfo(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(JAVA_LONG, 2);
            int status;
            try {
                status = (int) cudaMemoryInfo.invokeExact(device, values, values.asSlice(Long.BYTES));
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "");
            return new DeviceMemory(device, values.getAtIndex(JAVA_LONG, 0), values.getAtIndex(JAVA_LONG, 1));
        }
    }

    /** What libtorch's caching allocator holds on GPU {@code device}; checked as {@link #cudaMemoryInfo}. */
    DeviceAllocation cudaAllocatorStats(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(JAVA_LONG, 3);
            int status;
            try {
                status = (int) cudaAllocatorStats.invokeExact(device, values, values.asSlice(Long.BYTES),
                        values.asSlice(2L * Long.BYTES));
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "");
            return new DeviceAllocation(device, values.getAtIndex(JAVA_LONG, 0), values.getAtIndex(JAVA_LONG, 1),
                    values.getAtIndex(JAVA_LONG, 2));
        }
    }

    /** Gives the CUDA caching allocator's unused memory back to the driver; nothing without CUDA. */
    void cudaEmptyCache() {
        int status;
        try {
            status = (int) cudaEmptyCache.invokeExact();
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
        check(status, "");
    }

    /** Sets this thread's intra-op threads unless the last call on this thread already did. */
    void applyIntraOpThreads(int threads) {
        int[] applied = APPLIED_THREADS.get();
        if (applied[0] != threads) {
            int status;
            try {
                status = (int) setIntraOpThreads.invokeExact(threads);
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "setting libtorch's intra-op threads to " + threads + ": ");
            applied[0] = threads;
        }
    }

    /** This thread's intra-op threads as libtorch reports them. */
    int intraOpThreads() {
        try {
            return (int) getIntraOpThreads.invokeExact();
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /**
     * Loads a model; the handle must go back through {@link #free}.
     *
     * @param precision the ABI's type code of the precision: {@link #PRECISION_AS_SAVED}, FP16 or BF16
     * @param gpu what a CUDA model does besides; ignored elsewhere
     * @param context what is being done, for the message of a failure
     */
    MemorySegment load(String path, int format, int deviceType, int deviceIndex, int precision, boolean optimize,
            GpuSettings gpu, String context) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment options = arena.allocate(LOAD_OPTIONS);
            options.set(JAVA_INT, 0, format);
            options.set(JAVA_INT, 4, deviceType);
            options.set(JAVA_INT, 8, deviceIndex);
            options.set(JAVA_INT, 12, precision);
            options.set(JAVA_INT, 16, optimize ? 1 : 0);
            options.set(JAVA_INT, 20, gpu.cudnnBenchmark() ? 1 : 0);
            options.set(JAVA_INT, 24, gpu.cudaGraphs() ? 1 : 0);
            options.set(JAVA_INT, 28, gpu.pinnedBuffers() ? 1 : 0);
            MemorySegment handle = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) modelLoad.invokeExact(arena.allocateFrom(path), options, handle);
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, context);
            return handle.get(ADDRESS, 0);
        }
    }

    /**
     * A second handle on {@code model}'s module, weights shared; it must go back through {@link #free}.
     *
     * @throws EngineException saying why when the model cannot be shared (not TorchScript on the CPU,
     *     or its forward changes the module's state)
     */
    MemorySegment share(MemorySegment model) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) modelShare.invokeExact(model, handle);
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "");
            return handle.get(ADDRESS, 0);
        }
    }

    void free(MemorySegment model) {
        try {
            modelFree.invokeExact(model);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /**
     * {@code bytes} of page-locked host memory, which a run on a GPU copies to the device without
     * staging; free it with {@link #pinnedFree}.
     *
     * @throws EngineException when it cannot be had (no CUDA, or the host will not lock that much)
     */
    MemorySegment pinnedAlloc(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) pinnedAlloc.invokeExact(bytes, data);
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "");
            return data.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    void pinnedFree(MemorySegment data) {
        try {
            pinnedFree.invokeExact(data);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /** The number of the CUDA stream the model runs on among its device's; -1 when it is not on CUDA. */
    long streamId(MemorySegment model) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(JAVA_LONG);
            int status;
            try {
                status = (int) modelStream.invokeExact(model, id);
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            check(status, "");
            return id.get(JAVA_LONG, 0);
        }
    }

    /** The model's latest notice; "" when there is none. */
    String notice(MemorySegment model) {
        try {
            return string((MemorySegment) modelNotice.invokeExact(model));
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /**
     * Runs a model on {@code count} {@link #TENSOR}s, casting floating-point output i to the type
     * code {@code floatOutputs[i]} ({@code floatCount} of them; NULL and 0: as returned); the outputs
     * handle it writes to {@code outputs} must go back through {@link #freeOutputs}.
     */
    void run(MemorySegment model, MemorySegment tensors, int count, MemorySegment floatOutputs, int floatCount,
            MemorySegment outputs, String context) {
        int status;
        try {
            status = (int) modelRun.invokeExact(model, tensors, count, floatOutputs, floatCount, outputs);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
        check(status, context);
    }

    int outputCount(MemorySegment outputs) {
        try {
            return (int) outputsCount.invokeExact(outputs);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /** Fills {@code slots} with output {@code i}. */
    void output(MemorySegment outputs, int i, OutputSlots slots, String context) {
        int status;
        try {
            status = (int) output.invokeExact(outputs, i,
                    slots.name(), slots.dtype(), slots.ndim(), slots.shape(), slots.data(), slots.nbytes());
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
        check(status, context);
    }

    void freeOutputs(MemorySegment outputs) {
        try {
            outputsFree.invokeExact(outputs);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    private void check(int status, String context) {
        if (status != OK) {
            String message;
            try {
                message = string((MemorySegment) lastError.invokeExact());
            } catch (Throwable e) {
                throw bindingFailure(e);
            }
            EngineException.Kind kind = switch (status) {
                case OUT_OF_MEMORY -> EngineException.Kind.OUT_OF_MEMORY;
                case DEVICE_FAULT -> EngineException.Kind.DEVICE_FAULT;
                default -> EngineException.Kind.FAILED;
            };
            throw new EngineException(context + (message.isEmpty() ? "failed with status " + status : message),
                    null, kind);
        }
    }

    /** A NUL-terminated string the library owns. */
    static String string(MemorySegment cString) {
        return cString.equals(MemorySegment.NULL) ? "" : cString.reinterpret(Integer.MAX_VALUE).getString(0);
    }

    /** The library's functions throw nothing, so anything thrown by a call is a binding bug. */
    private static RuntimeException bindingFailure(Throwable e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        if (e instanceof Error error) {
            throw error;
        }
        return new IllegalStateException("engine library call failed", e);
    }

    /** Finds symbols and makes downcall handles, naming a missing symbol. */
    private record Binder(Linker linker, SymbolLookup symbols) {
        MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
            MemorySegment address = symbols.find(name).orElseThrow(() -> new EngineException(
                    "the engine library lacks the function " + name + "; it was built from other sources than"
                            + " this torchlight"));
            return linker.downcallHandle(address, descriptor, options);
        }
    }
}
