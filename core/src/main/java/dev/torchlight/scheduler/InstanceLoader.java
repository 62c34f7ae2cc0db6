package dev.torchlight.scheduler;

import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;

/** Loads (and warms up) one instance of a model version where it is placed. */
@FunctionalInterface
public interface InstanceLoader {
    /**
     * Called on the thread that will serve the instance, when it starts and again when it is reloaded.
     *
     * @throws RuntimeException when the instance cannot be loaded; the message says why
     */
    LoadedModel load(Placement placement);
}
