package dev.torchlight.registry;

/** Lifecycle of one model version. */
public enum ModelState {
    LOADING,
    READY,
    FAILED,
    UNLOADED
}
