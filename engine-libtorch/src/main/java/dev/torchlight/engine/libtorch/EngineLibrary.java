package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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

    static final int TORCHSCRIPT = 0;
    static final int AOTI = 1;
    static final int DEVICE_CPU = 0;
    static final int DEVICE_CUDA = 1;
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
            JAVA_INT.withName("optimize"));

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

    private final LibraryFile file;
    private final MethodHandle lastError;
    private final MethodHandle libtorchVersion;
    private final MethodHandle buildFeatures;
    private final MethodHandle cudaDeviceCount;
    private final MethodHandle setIntraOpThreads;
    private final MethodHandle getIntraOpThreads;
    private final MethodHandle modelLoad;
    private final MethodHandle modelFree;
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
        setIntraOpThreads = bind.function("tl_set_intra_op_threads", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        getIntraOpThreads = bind.function("tl_get_intra_op_threads", FunctionDescriptor.of(JAVA_INT), quick);
        modelLoad = bind.function("tl_model_load", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        modelFree = bind.function("tl_model_free", FunctionDescriptor.ofVoid(ADDRESS));
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
     * @param context what is being done, for the message of a failure
     */
    MemorySegment load(String path, int format, int deviceType, int deviceIndex, boolean optimize, String context) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment options = arena.allocate(LOAD_OPTIONS);
            options.set(JAVA_INT, 0, format);
            options.set(JAVA_INT, 4, deviceType);
            options.set(JAVA_INT, 8, deviceIndex);
            options.set(JAVA_INT, 12, PRECISION_AS_SAVED);
            options.set(JAVA_INT, 16, optimize ? 1 : 0);
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

    void free(MemorySegment model) {
        try {
            modelFree.invokeExact(model);
        } catch (Throwable e) {
            throw bindingFailure(e);
        }
    }

    /**
     * Runs a model on {@code count} {@link #TENSOR}s; the outputs handle it writes to
     * {@code outputs} must go back through {@link #freeOutputs}.
     */
    void run(MemorySegment model, MemorySegment tensors, int count, MemorySegment outputs, String context) {
        int status;
        try {
            status = (int) modelRun.invokeExact(model, tensors, count, MemorySegment.NULL, 0, outputs);
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

    /** Fills {@code slots} (an {@link #OUTPUT}) with output {@code i}. */
    void output(MemorySegment outputs, int i, MemorySegment slots, String context) {
        int status;
        try {
            status = (int) output.invokeExact(outputs, i,
                    slots.asSlice(OUTPUT_NAME), slots.asSlice(OUTPUT_DTYPE), slots.asSlice(OUTPUT_NDIM),
                    slots.asSlice(OUTPUT_SHAPE), slots.asSlice(OUTPUT_DATA), slots.asSlice(OUTPUT_NBYTES));
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
            throw new EngineException(context + (message.isEmpty() ? "failed with status " + status : message),
                    null, status == OUT_OF_MEMORY);
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
