package dev.torchlight.server.runtime;

import dev.torchlight.engine.Engine;
import dev.torchlight.engine.libtorch.LibTorchEngine;

/** Creates the production engine; the one place the server names a concrete engine. */
public final class EngineFactory {
    private EngineFactory() {}

    /** The libtorch engine, whose native library is found as {@link LibTorchEngine} describes. */
    public static Engine create() {
        return new LibTorchEngine();
    }
}
