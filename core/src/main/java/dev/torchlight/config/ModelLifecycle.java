package dev.torchlight.config;

import java.util.List;
import java.util.Objects;

/**
 * How a model's versions are chosen and warmed up, from its {@code config.yaml}.
 *
 * @param versionPolicy which version folders are served
 * @param warmup warm-up requests; empty means inputs generated from the declared inputs
 */
public record ModelLifecycle(VersionPolicy versionPolicy, List<WarmupSample> warmup) {
    public ModelLifecycle {
        Objects.requireNonNull(versionPolicy, "versionPolicy");
        warmup = List.copyOf(warmup);
    }

    /** Every version, generated warm-up inputs. */
    public static ModelLifecycle defaults() {
        return new ModelLifecycle(VersionPolicy.all(), List.of());
    }
}
