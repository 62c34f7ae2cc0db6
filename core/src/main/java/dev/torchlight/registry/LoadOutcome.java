package dev.torchlight.registry;

import java.util.List;

/**
 * What one load, reload or scaling of a model did.
 *
 * @param model the model's name
 * @param serving the versions that serve now, ascending
 * @param loaded the versions (re)loaded by this call, ascending
 * @param failures why versions (or the whole model) failed to load; empty when all went well. A
 *     version that failed to reload while an older copy of it was serving keeps serving that copy.
 */
public record LoadOutcome(String model, List<Long> serving, List<Long> loaded, List<String> failures) {
    public LoadOutcome {
        serving = List.copyOf(serving);
        loaded = List.copyOf(loaded);
        failures = List.copyOf(failures);
    }

    public boolean ok() {
        return failures.isEmpty();
    }
}
