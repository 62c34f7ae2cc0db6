package dev.torchlight.engine.libtorch;

import dev.torchlight.api.DataType;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.DeviceMemory;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.IntraOpBudget;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.repository.ModelSource;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs TorchScript models and AOTInductor packages with libtorch, through torchlight's engine
 * library (a thin C ABI over libtorch, {@code src/main/native}) called with Java's foreign function
 * and memory API.
 *
 * <p>The library is found by {@link LibraryFile} and loaded on the first {@link #load} or
 * {@link #gpuCount}, not on construction, so building the object graph stays cheap.
 *
 * <p>Formats: a {@code model.pt2} file, or any file of a model whose platform is {@code aoti}, is an
 * AOTInductor package; anything else is TorchScript, frozen at load unless the config's
 * {@code freeze} is false.
 *
 * <p>Intra-op threads: the config's {@code intra_op_threads}, else this engine's option, else an
 * even share of the cores among every live instance of this engine, across all its models (see
 * {@link IntraOpBudget}). libtorch keeps the count per thread, so each model applies its current
 * value on the thread that runs it (a thread-local check; a native call only when it changed).
 *
 * <p>Out of memory: a load or run that fails for lack of memory throws an {@link EngineException}
 * whose {@link EngineException#outOfMemory()} is true, so the scheduler can split the batch (on a GPU
 * the library has emptied libtorch's cache by then). A CUDA error that breaks the device's context
 * throws one whose {@link EngineException#deviceFault()} is true.
 *
 * <p>Placement: on the CPU; on a GPU (a library built against a CUDA libtorch), where each instance
 * runs on its own CUDA stream with the config's GPU settings; or {@link Placement#MODEL}, TorchScript
 * loaded where its parts were saved, inputs handed over on the CPU. {@code precision} (TorchScript)
 * converts the module once at load; inputs and outputs keep their declared datatypes.
 *
 * <p>Datatypes: all ten of torchlight's, BOOL to FP64 including INT16 and BF16.
 *
 * <p>Weights in memory once: CPU instances of a TorchScript file share one loaded module (see
 * {@link SharedModules}), whether they are instances of one version or of versions that read the
 * same file, unless its forward keeps state between calls (then each loads its own). A module
 * shared by several instances runs on their threads at once: TorchScript runs concurrent calls of a
 * module that changes nothing in it independently.
 */
public final class LibTorchEngine implements Engine {
    private static final Logger LOG = LoggerFactory.getLogger(LibTorchEngine.class);

    private final int intraOpThreads;
    private final IntraOpBudget budget;
    private final Supplier<LibraryFile> locator;
    private EngineLibrary library;
    private SharedModules<MemorySegment> modules;
    private TrialProcess trials;

    /** Shares the cores among instances; the library {@link LibraryFile#locate()} finds. */
    public LibTorchEngine() {
        this(0);
    }

    /**
     * @param intraOpThreads threads per instance for models without {@code intra_op_threads}; 0 = a
     *     share of the cores
     */
    public LibTorchEngine(int intraOpThreads) {
        this(intraOpThreads, Runtime.getRuntime().availableProcessors(), LibraryFile::locate);
    }

    /**
     * @param intraOpThreads threads per instance for models without {@code intra_op_threads}; 0 = a
     *     share of the cores
     * @param cores the cores this engine's instances share
     */
    LibTorchEngine(int intraOpThreads, int cores, Supplier<LibraryFile> locator) {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be 0 (a share) or positive, got " + intraOpThreads);
        }
        this.intraOpThreads = intraOpThreads;
        this.budget = new IntraOpBudget(cores);
        this.locator = locator;
    }

    @Override
    public String name() {
        return "libtorch";
    }

    /** The engine library, loaded on first use. */
    synchronized EngineLibrary library() {
        if (library == null) {
            EngineLibrary loaded = EngineLibrary.load(locator.get());
            int gpus = (loaded.features() & EngineLibrary.FEATURE_CUDA) != 0 ? loaded.cudaDeviceCount() : -1;
            LOG.info("engine library {}: libtorch {}{}{}", loaded.file().library(), loaded.libtorchVersion(),
                    gpus < 0 ? ", CPU only" : ", CUDA (" + gpus + (gpus == 1 ? " GPU)" : " GPUs)"),
                    (loaded.features() & EngineLibrary.FEATURE_AOTI) != 0 ? ", AOTInductor" : "");
            library = loaded;
            modules = new SharedModules<>(loaded::share, loaded::free);
        }
        return library;
    }

    /** The trial loads in a child process ({@link TrialProcess}); made on first use. */
    synchronized TrialProcess trials() {
        if (trials == null) {
            trials = new TrialProcess(library().file().library());
        }
        return trials;
    }

    /** The modules CPU instances share; set with the library. */
    synchronized SharedModules<MemorySegment> modules() {
        library();
        return modules;
    }

    /** The libtorch version the engine runs with, e.g. {@code 2.13.0}. */
    public String libtorchVersion() {
        return library().libtorchVersion();
    }

    /**
     * Loads one instance of a TorchScript file or AOTInductor package where it is placed.
     *
     * @throws EngineException when the file is missing or is not a model of its format, the package
     *     was compiled for another device or libtorch, the placement names a GPU this libtorch does
     *     not have, or the engine library cannot load; the message names the model and the file
     */
    @Override
    public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
        String model = "model '" + config.name() + "': ";
        boolean aoti = config.aoti() || modelFile.getFileName().toString().endsWith(".pt2");
        if (config.aoti() && !modelFile.getFileName().toString().endsWith(".pt2")) {
            throw new EngineException(model + "platform 'aoti' serves AOTInductor packages, named "
                    + ModelSource.PACKAGE_FILE + ", but the version folder holds " + modelFile);
        }
        if (!Files.isRegularFile(modelFile)) {
            throw new EngineException(model + "model file " + modelFile
                    + (Files.exists(modelFile) ? " is not a file" : " does not exist"));
        }
        Precision precision = config.engine().precision();
        if (aoti && precision != Precision.FP32) {
            throw new EngineException(model + "precision " + precision.key() + " applies to TorchScript only; an"
                    + " AOTInductor package computes in the types it was compiled with");
        }
        if (aoti && placement.kind() == Placement.Kind.MODEL) {
            throw new EngineException(model + "instance kind MODEL (loaded as saved) applies to TorchScript only; an"
                    + " AOTInductor package runs on the device it was compiled for");
        }
        EngineLibrary lib = library();
        checkPlacement(lib, model, placement);
        if (aoti && (lib.features() & EngineLibrary.FEATURE_AOTI) == 0) {
            throw new EngineException(model + "this engine library was built without AOTInductor support, so it"
                    + " cannot load " + modelFile);
        }
        IntraOpBudget.Lease threads = budget.acquire(fixedIntraOpThreads(config));
        try {
            lib.applyIntraOpThreads(threads.threads());
            Supplier<MemorySegment> load = () -> lib.load(modelFile.toAbsolutePath().toString(),
                    aoti ? EngineLibrary.AOTI : EngineLibrary.TORCHSCRIPT, deviceType(placement), placement.device(),
                    precisionCode(precision), !aoti && config.engine().freeze(), config.engine().gpu(),
                    model + "cannot load " + modelFile + " as " + (aoti ? "an AOTInductor package" : "TorchScript")
                            + (placement.kind() == Placement.Kind.CPU ? "" : " on " + placement) + ": ");
            if (aoti || placement.kind() != Placement.Kind.CPU) {
                if (TrialProcess.wanted(aoti, placement)) {
                    trials().check(config, modelFile, placement);
                }
                MemorySegment handle = load.get();
                return model(lib, config, placement, handle, threads, () -> lib.free(handle));
            }
            ModuleKey key = ModuleKey.of(modelFile, precision, config.engine().freeze());
            SharedModules<MemorySegment> shared = modules();
            MemorySegment handle = shared.acquire(key, load, "model '" + config.name() + "' on " + placement);
            return model(lib, config, placement, handle, threads, () -> shared.release(key, handle));
        } catch (RuntimeException e) {
            threads.close();
            throw e;
        }
    }

    private static LibTorchModel model(EngineLibrary lib, ModelConfig config, Placement placement,
            MemorySegment handle, IntraOpBudget.Lease threads, Runnable release) {
        try {
            return new LibTorchModel(lib, config, placement, handle, threads, release);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /**
     * What makes two loads of a TorchScript file give the same module: the file itself (its device
     * and inode, size and modification time, so that a file replaced in place is loaded anew) and how
     * it is converted at load.
     */
    record ModuleKey(Path file, Object fileKey, long size, FileTime modified, Precision precision, boolean freeze) {
        static ModuleKey of(Path file, Precision precision, boolean freeze) {
            Path absolute = file.toAbsolutePath().normalize();
            try {
                BasicFileAttributes attributes = Files.readAttributes(absolute, BasicFileAttributes.class);
                return new ModuleKey(absolute, attributes.fileKey(), attributes.size(), attributes.lastModifiedTime(),
                        precision, freeze);
            } catch (IOException e) {
                throw new EngineException("cannot read the attributes of " + absolute + ": " + e.getMessage(), e);
            }
        }
    }

    private static int deviceType(Placement placement) {
        return switch (placement.kind()) {
            case CPU -> EngineLibrary.DEVICE_CPU;
            case GPU -> EngineLibrary.DEVICE_CUDA;
            case MODEL -> EngineLibrary.DEVICE_AS_SAVED;
        };
    }

    /** The ABI's type code for the precision a model computes in. */
    static int precisionCode(Precision precision) {
        return switch (precision) {
            case FP32 -> EngineLibrary.PRECISION_AS_SAVED;
            case FP16 -> DataTypeCodes.code(DataType.FP16);
            case BF16 -> DataTypeCodes.code(DataType.BF16);
        };
    }

    private static void checkPlacement(EngineLibrary lib, String model, Placement placement) {
        if (!placement.onGpu()) {
            return;
        }
        if ((lib.features() & EngineLibrary.FEATURE_CUDA) == 0) {
            throw new EngineException(model + "cannot place an instance on " + placement + ": the engine library"
                    + " was built against a libtorch without CUDA (see docs/ENGINE.md for building it against"
                    + " a CUDA libtorch)");
        }
        int gpus = lib.cudaDeviceCount();
        if (placement.device() >= gpus) {
            throw new EngineException(model + "cannot place an instance on " + placement + ": libtorch sees "
                    + gpus + " GPU(s)");
        }
    }

    /**
     * The intra-op threads an instance of {@code config} is fixed to: the config's
     * {@code intra_op_threads} when set, else this engine's option when set, else 0 (a share).
     */
    int fixedIntraOpThreads(ModelConfig config) {
        return config.engine().intraOpThreads() > 0 ? config.engine().intraOpThreads() : intraOpThreads;
    }

    /** Threads each instance without a fixed count runs with now. */
    int sharedIntraOpThreads() {
        return budget.share();
    }

    /** CUDA devices libtorch sees; 0 when the library was built without CUDA. */
    @Override
    public int gpuCount() {
        EngineLibrary lib = library();
        return (lib.features() & EngineLibrary.FEATURE_CUDA) == 0 ? 0 : lib.cudaDeviceCount();
    }

    /**
     * GPU {@code device}'s free and total memory from the CUDA driver; empty without CUDA, for a GPU
     * libtorch does not see, or when the driver cannot say (logged). Asking about a GPU creates
     * libtorch's CUDA context there if it has none yet.
     */
    @Override
    public Optional<DeviceMemory> deviceMemory(int device) {
        try {
            if (device < 0 || device >= gpuCount()) {
                return Optional.empty();
            }
            return Optional.of(library().cudaMemoryInfo(device));
        } catch (EngineException e) {
            LOG.debug("no memory figures for GPU {}: {}", device, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * What libtorch's CUDA caching allocator holds on every GPU it sees (zeros where it has allocated
     * nothing); empty without CUDA or when the figures cannot be read (logged).
     */
    @Override
    public List<DeviceAllocation> deviceAllocations() {
        try {
            int gpus = gpuCount();
            List<DeviceAllocation> allocations = new ArrayList<>(gpus);
            for (int device = 0; device < gpus; device++) {
                allocations.add(library().cudaAllocatorStats(device));
            }
            return List.copyOf(allocations);
        } catch (EngineException e) {
            LOG.debug("no allocator figures: {}", e.getMessage());
            return List.of();
        }
    }

    @Override
    public String toString() {
        return "LibTorchEngine[intraOpThreads=" + intraOpThreads + "]";
    }
}
