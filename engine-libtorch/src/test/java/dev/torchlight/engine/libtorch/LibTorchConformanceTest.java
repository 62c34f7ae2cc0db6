package dev.torchlight.engine.libtorch;

import dev.torchlight.engine.Engine;

/** The conformance suite on the libtorch engine. */
class LibTorchConformanceTest extends EngineConformance {
    private static final Engine ENGINE = new LibTorchEngine();

    @Override
    Engine engine() {
        return ENGINE;
    }
}
