package dev.torchlight.server.runtime;

import dev.torchlight.engine.Engine;
import dev.torchlight.engine.pytorch.PyTorchEngine;
import dev.torchlight.engine.pytorch.PyTorchRuntime;

/** Creates the production engine; the one place the server names a concrete engine. */
public final class EngineFactory {
    private EngineFactory() {}

    /**
     * The DJL PyTorch engine on CPU, offline, with libtorch extracted under
     * {@code ~/.cache/torchlight/djl} unless {@code DJL_CACHE_DIR} says otherwise.
     */
    public static Engine pytorch() {
        PyTorchRuntime.configureOffline();
        return new PyTorchEngine();
    }
}
