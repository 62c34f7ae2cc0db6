package dev.torchlight.scheduler;

import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;

/** Loads (and warms up) one instance of a model version where it is placed. */
@FunctionalInterface
public interface InstanceLoader {
    /**
     * Whether {@code model}, after batches failed in a row, still runs an input known to be good (the
     * one it was warmed up with): then the requests' inputs were at fault, not the instance, and it is
     * not reloaded. Called on the instance's thread. The default knows no such input and answers false.
     */
    default boolean stillRuns(LoadedModel model) {
        return false;
    }

    /**
     * Called on the thread that will serve the instance, when it starts and again when it is reloaded.
     *
     * @throws RuntimeException when the instance cannot be loaded; the message says why
     */
    LoadedModel load(Placement placement);
}
