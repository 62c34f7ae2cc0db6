package dev.torchlight.config;

/**
 * Server-wide settings for model handlers (preprocessing and postprocessing).
 *
 * @param allowCustomHandlers whether models may load handler code from jars in their directories
 * @param preprocessThreads threads that run handlers' pre- and postprocessing; 0 picks a quarter
 *     of the cores
 */
public record HandlerConfig(boolean allowCustomHandlers, int preprocessThreads) {
    public HandlerConfig {
        if (preprocessThreads < 0) {
            throw new IllegalArgumentException("preprocessThreads must be 0 (automatic) or more, got "
                    + preprocessThreads);
        }
    }

    /** No custom handlers, automatic thread count. */
    public static HandlerConfig defaults() {
        return new HandlerConfig(false, 0);
    }
}
