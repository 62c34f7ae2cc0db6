package dev.torchlight.engine.pytorch;

import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Utils;
import dev.torchlight.engine.EngineException;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Process-wide libtorch set-up. libtorch is one native library per process, so this is the one
 * place with static state.
 *
 * <p>With {@code pytorch-native-cpu} and {@code pytorch-jni} on the class path DJL needs no
 * network: on first use it extracts libtorch (about 450 MB) from the native jar into
 * {@code <DJL_CACHE_DIR>/pytorch/} and loads it from there. The only other network access DJL
 * attempts is a telemetry call at start-up, which {@code ai.djl.offline=true} turns off. DJL reads
 * environment variables before system properties, so {@code DJL_CACHE_DIR} or {@code DJL_OFFLINE}
 * in the environment win over what is set here.
 */
public final class PyTorchRuntime {
    static final String CACHE_DIR = "DJL_CACHE_DIR";
    static final String OFFLINE = "ai.djl.offline";

    private static volatile ai.djl.engine.Engine engine;
    /** The intra-op thread count this thread last set, 0 if none. */
    private static final ThreadLocal<int[]> APPLIED = ThreadLocal.withInitial(() -> new int[1]);

    private PyTorchRuntime() {}

    /**
     * Points DJL's cache at {@code cacheDir} and turns off its network access. Call before the first
     * model is loaded; sets each system property only when it is not set already, so {@code -D}
     * flags keep precedence.
     */
    public static void configureOffline(Path cacheDir) {
        setIfAbsent(CACHE_DIR, cacheDir.toAbsolutePath().toString());
        setIfAbsent(OFFLINE, "true");
    }

    /** {@link #configureOffline(Path)} with torchlight's cache, {@code ~/.cache/torchlight/djl}. */
    public static void configureOffline() {
        configureOffline(Path.of(System.getProperty("user.home"), ".cache", "torchlight", "djl"));
    }

    /**
     * Loads libtorch once (the first call takes seconds, more when the cache is cold).
     *
     * @return DJL's PyTorch engine
     * @throws EngineException when libtorch cannot be extracted or loaded
     */
    static ai.djl.engine.Engine start() {
        ai.djl.engine.Engine running = engine;
        if (running != null) {
            return running;
        }
        synchronized (PyTorchRuntime.class) {
            if (engine != null) {
                return engine;
            }
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                // Tensors are little-endian and handed to libtorch without swapping bytes.
                throw new EngineException("the PyTorch engine needs a little-endian machine");
            }
            // torchlight never wants DJL's downloads or telemetry, even if nobody configured it.
            setIfAbsent(OFFLINE, "true");
            try {
                engine = ai.djl.engine.Engine.getEngine("PyTorch");
            } catch (RuntimeException | LinkageError e) {
                throw new EngineException("cannot start libtorch (cache directory "
                        + Utils.getEngineCacheDir("pytorch") + "): " + NativeErrors.message(e), e);
            }
            return engine;
        }
    }

    /**
     * Sets libtorch's intra-op thread count for the calling thread and as the default of every thread
     * that has not run a parallel operator yet (libtorch with OpenMP reads the process-wide value once
     * per thread, at that thread's first parallel operator).
     */
    static void setIntraOpThreads(int threads) {
        JniUtils.setNumThreads(threads);
        APPLIED.get()[0] = threads;
    }

    /**
     * Makes the calling thread run with {@code threads} intra-op threads; one JNI call the first time
     * (and whenever the value changes), a thread-local read after that.
     */
    static void applyIntraOpThreads(int threads) {
        int[] applied = APPLIED.get();
        if (applied[0] != threads) {
            setIntraOpThreads(threads);
        }
    }

    /** libtorch's current intra-op thread count. */
    static int intraOpThreads() {
        return JniUtils.getNumThreads();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
