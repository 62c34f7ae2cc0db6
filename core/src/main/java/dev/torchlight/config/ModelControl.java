package dev.torchlight.config;

/** Who decides which models are loaded after start-up. */
public enum ModelControl {
    /** The models found at start-up stay; the management API may scale them and pick default versions. */
    NONE,
    /** The repository is rescanned every poll interval: new, changed and removed versions take effect. */
    POLL,
    /** The management API loads, registers and unloads models (the default). */
    EXPLICIT
}
