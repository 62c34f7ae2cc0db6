package dev.torchlight.server.management;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * TorchServe's management API over the {@link ModelManager}: list, describe, register, scale,
 * set the default version, unregister. Replies have TorchServe's shapes ({@code modelName},
 * {@code modelVersion}, {@code workers}, {@code {"status": ...}}); errors are
 * {@code {"error": ...}} like the rest of torchlight. Calls that change which models are loaded
 * need {@code --model-control explicit}; scaling and default versions work in every mode.
 */
final class ManagementApi {
    private static final int DEFAULT_PAGE = 100;

    private final ModelManager manager;
    private final ModelService routes;
    private final ModelRegistrar registrar;
    private final ModelControl control;

    ManagementApi(ModelManager manager, ModelRegistrar registrar, ModelControl control) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.routes = manager.routes();
        this.registrar = Objects.requireNonNull(registrar, "registrar");
        this.control = Objects.requireNonNull(control, "control");
    }

    /** {@code GET /models?limit=&next_page_token=}. */
    HttpReply list(Integer limit, Integer pageToken) {
        Map<String, String> urls = new LinkedHashMap<>();
        for (ServedModel model : routes.models()) {
            try {
                urls.put(model.name(), manager.source(model.name()).directory().toString());
            } catch (ServingException.NotFound e) {
                // unloaded while listing: leave it out
            }
        }
        List<Map.Entry<String, String>> all = new ArrayList<>(urls.entrySet());
        int from = pageToken == null ? 0 : Math.min(pageToken, all.size());
        int size = limit == null ? DEFAULT_PAGE : limit;
        int to = Math.min(all.size(), from + size);
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            if (to < all.size()) {
                g.writeStringField("nextPageToken", Integer.toString(to));
            }
            g.writeArrayFieldStart("models");
            for (Map.Entry<String, String> e : all.subList(from, to)) {
                g.writeStartObject();
                g.writeStringField("modelName", e.getKey());
                g.writeStringField("modelUrl", e.getValue());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** {@code GET /models/{m}} (default version), {@code /models/{m}/all}, {@code /models/{m}/{v}}. */
    HttpReply describe(String model, Long version, boolean all) {
        ServedModel served = routes.model(model);
        List<ServedVersion> versions = all ? List.copyOf(served.versions().values()) : List.of(served.version(version));
        ServedVersion byDefault = served.defaultServed();
        Long defaultVersion = byDefault.version() > 0 ? byDefault.version() : null;
        String url = manager.source(model).directory().toString();
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartArray();
            for (ServedVersion v : versions) {
                writeModel(g, v, url, defaultVersion, served.error());
            }
            g.writeEndArray();
        });
    }

    private static void writeModel(JsonGenerator g, ServedVersion info, String url, Long defaultVersion,
            String lastError) throws IOException {
        ModelConfig config = info.config();
        List<InstanceStatus> instances = info.instances();
        g.writeStartObject();
        g.writeStringField("modelName", info.model());
        g.writeStringField("modelVersion", Long.toString(info.version()));
        g.writeStringField("modelUrl", url);
        g.writeStringField("runtime", config == null ? "unknown" : config.platform());
        int count = instances.size();
        g.writeNumberField("minWorkers", count);
        g.writeNumberField("maxWorkers", count);
        g.writeNumberField("batchSize", config == null ? 0 : Math.max(1, config.maxBatchSize()));
        g.writeNumberField("maxBatchDelay", config == null || config.dynamicBatching() == null ? 0
                : config.dynamicBatching().maxQueueDelayMicros() / 1000);
        g.writeBooleanField("isDefault", defaultVersion != null && defaultVersion == info.version());
        g.writeStringField("state", info.state().name());
        if (info.error() != null) {
            g.writeStringField("error", info.error());
        }
        if (lastError != null) {
            g.writeStringField("lastLoadError", lastError);
        }
        g.writeArrayFieldStart("workers");
        for (int i = 0; i < instances.size(); i++) {
            InstanceStatus s = instances.get(i);
            g.writeStartObject();
            g.writeStringField("id", s.label());
            g.writeStringField("status", s.healthy() ? "READY" : "UNHEALTHY");
            g.writeStringField("device", s.placement().toString());
            g.writeBooleanField("gpu", s.placement().onGpu());
            g.writeNumberField("safeBatchSize", s.safeBatchSize());
            g.writeNumberField("reloads", s.reloads());
            if (s.lastError() != null) {
                g.writeStringField("lastError", s.lastError());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** {@code POST /models?url=&model_name=&initial_workers=}. Blocks while the model loads. */
    HttpReply register(String url, String modelName, Integer initialWorkers) {
        HttpReply refused = requireExplicit("register models");
        if (refused != null) {
            return refused;
        }
        ModelSource source = registrar.resolve(url);
        if (modelName != null && !modelName.equals(source.name())) {
            throw new ServingException.InvalidInput("model_name '" + modelName + "' does not match the model at url '"
                    + url + "', which is '" + source.name() + "'");
        }
        if (manager.contains(source.name())) {
            return JsonReplies.error(HttpResponseStatus.CONFLICT, "model '" + source.name()
                    + "' is already registered; unregister it first (DELETE /models/" + source.name()
                    + ") or reload it (POST /v2/repository/models/" + source.name() + "/load)");
        }
        LoadOutcome outcome = initialWorkers == null ? manager.load(source) : manager.load(source, initialWorkers);
        if (outcome.serving().isEmpty()) {
            manager.unload(source.name());
            throw new ServingException.InvalidInput("model '" + source.name() + "' failed to load: "
                    + String.join("; ", outcome.failures()));
        }
        int workers = routes.resolve(source.name(), null).instances().size();
        return status(HttpResponseStatus.OK, "Model \"" + source.name() + "\" Version: " + outcome.serving()
                .get(outcome.serving().size() - 1) + " registered with " + workers + " initial workers"
                + (outcome.ok() ? "" : "; failed: " + String.join("; ", outcome.failures())));
    }

    /** {@code PUT /models/{m}?min_worker=N}: reloads each version on N instances, then swaps. */
    HttpReply scale(String model, Integer minWorker) {
        if (minWorker == null) {
            throw new ServingException.InvalidInput("PUT /models/" + model + " needs min_worker=N (instances per version)");
        }
        LoadOutcome outcome = manager.scale(model, minWorker);
        if (!outcome.ok()) {
            return JsonReplies.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "scaling model '" + model
                    + "' failed; the previous instances keep serving: " + String.join("; ", outcome.failures()));
        }
        return status(HttpResponseStatus.OK, "Workers scaled to " + minWorker + " for model: " + model);
    }

    /** {@code PUT /models/{m}/{v}/set-default}. */
    HttpReply setDefault(String model, long version) {
        manager.setDefault(model, version);
        return status(HttpResponseStatus.OK, "Default version successfully updated for model \"" + model + "\" to \""
                + version + "\"");
    }

    /** {@code DELETE /models/{m}[/{v}]}: drains, then releases. */
    HttpReply unregister(String model, Long version) {
        HttpReply refused = requireExplicit("unregister models");
        if (refused != null) {
            return refused;
        }
        if (version == null) {
            manager.unload(model);
            return status(HttpResponseStatus.OK, "Model \"" + model + "\" unregistered");
        }
        manager.unload(model, version);
        return status(HttpResponseStatus.OK, "Model \"" + model + "\" Version: " + version + " unregistered");
    }

    /** A 409 unless models are under explicit control; null when they are. */
    HttpReply requireExplicit(String what) {
        if (control == ModelControl.EXPLICIT) {
            return null;
        }
        return JsonReplies.error(HttpResponseStatus.CONFLICT, "cannot " + what + " with --model-control "
                + control.name().toLowerCase(java.util.Locale.ROOT) + (control == ModelControl.POLL
                        ? ": the repository decides which models are loaded; change the repository instead"
                        : ": the models are fixed at start-up") + " (start with --model-control explicit)");
    }

    static HttpReply status(HttpResponseStatus code, String message) {
        return JsonReplies.json(code, g -> {
            g.writeStartObject();
            g.writeStringField("status", message);
            g.writeEndObject();
        });
    }
}
