package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import java.util.List;

/**
 * What the front ends need from the core: which models and versions serve (routing), and
 * readiness. Inference goes through the {@link ServedVersion} a request resolves to.
 */
public interface ModelService {
    /** Tries to hold a resolved version before giving up; a retired version has always been replaced. */
    int ACQUIRE_ATTEMPTS = 100;

    /**
     * The model as it serves now.
     *
     * @throws ServingException.NotFound for an unknown model, naming the known ones
     */
    ServedModel model(String name);

    /** Every known model (loaded or failed), by name. */
    List<ServedModel> models();

    /** True when at least one model is known and every model's default version is ready. */
    boolean ready();

    /**
     * Resolves a model and version, without holding it: for metadata and readiness.
     *
     * @param version explicit version, or null for the model's default version
     * @throws ServingException.NotFound for an unknown model or version
     */
    default ServedVersion resolve(String model, Long version) {
        return model(model).version(version);
    }

    /**
     * Resolves a model and version and {@linkplain ServedVersion#hold holds} it for one request; the
     * caller {@linkplain ServedVersion#release releases} it once the request is answered. A version
     * retired between resolving and holding has already been replaced, so resolving again finds
     * what replaced it.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    default ServedVersion acquire(String model, Long version) {
        return acquire(model, version, RequestHeaders.NONE);
    }

    /**
     * {@link #acquire(String, Long)} for a request whose version is chosen by the model's traffic
     * split when it names none ({@link ServedModel#route}): a random draw, or the hash of the split's
     * sticky header when {@code headers} carry it. Only versions that are ready take split traffic.
     *
     * @param headers the request's headers
     * @throws ServingException.NotFound for an unknown model or version
     */
    default ServedVersion acquire(String model, Long version, RequestHeaders headers) {
        for (int attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
            ServedVersion served = model(model).route(version, headers);
            if (served.hold()) {
                return served;
            }
        }
        throw new ServingException.NotReady("model '" + model + "' is being replaced; retry");
    }
}
