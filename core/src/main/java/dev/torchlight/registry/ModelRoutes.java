package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The routing table: model name to the {@link ServedModel} that serves it now. The lifecycle
 * ({@link ModelManager}) publishes a whole new {@code ServedModel} for every change, so readers never
 * lock and never see half a change.
 */
final class ModelRoutes implements ModelService {
    private final Map<String, ServedModel> models = new ConcurrentSkipListMap<>();
    private volatile boolean shuttingDown;

    @Override
    public ServedModel model(String name) {
        ServedModel model = name == null ? null : models.get(name);
        if (model == null) {
            throw new ServingException.NotFound("unknown model '" + name + "'; known models: " + models.keySet());
        }
        return model;
    }

    @Override
    public List<ServedModel> models() {
        return List.copyOf(models.values());
    }

    @Override
    public boolean ready() {
        return !shuttingDown && !models.isEmpty() && models.values().stream().allMatch(ServedModel::ready);
    }

    /** The model, or null when it is not routed. */
    ServedModel find(String name) {
        return models.get(name);
    }

    /** Routes new requests for the model to {@code model} from now on. */
    void publish(ServedModel model) {
        models.put(model.name(), model);
    }

    /** Stops routing to the model; returns what was routed, or null. */
    ServedModel remove(String name) {
        return models.remove(name);
    }

    /** Readiness turns false from now on, so that load balancers stop routing here; requests still run. */
    void beginShutdown() {
        shuttingDown = true;
    }
}
