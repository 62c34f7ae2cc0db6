package dev.torchlight.server.management;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.ConfigException;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The KServe/Triton model repository extension: {@code POST /v2/repository/index} lists every
 * model in the repository and every loaded one with its state; {@code .../models/{m}/load} loads
 * or reloads a model from the repository (unchanged versions keep serving, changed ones are
 * swapped in), and with {@code {"parameters": {"traffic": ...}}} then sets its traffic split
 * ({@link TrafficApi}); {@code .../unload} drains and releases it.
 */
final class RepositoryApi {
    private final ModelManager manager;
    private final ModelRepository repository;
    private final ManagementApi management;
    private final TrafficApi traffic;

    RepositoryApi(ModelManager manager, ModelRepository repository, ManagementApi management, TrafficApi traffic) {
        this.manager = manager;
        this.repository = repository;
        this.management = management;
        this.traffic = traffic;
    }

    /** @param readyOnly the request body's {@code "ready": true}: list only ready versions */
    HttpReply index(boolean readyOnly) {
        List<ServedVersion> loaded = manager.routes().models().stream().flatMap(m -> m.listed().stream()).toList();
        Set<String> onDisk = new TreeSet<>();
        try {
            repository.scan(List.of()).forEach(s -> onDisk.add(s.name()));
        } catch (ConfigException e) {
            // a missing repository lists only what is loaded
        }
        loaded.forEach(info -> onDisk.remove(info.model()));
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartArray();
            for (ServedVersion info : loaded) {
                if (readyOnly && info.state() != ModelState.READY) {
                    continue;
                }
                g.writeStartObject();
                g.writeStringField("name", info.model());
                g.writeStringField("version", Long.toString(info.version()));
                g.writeStringField("state", info.state() == ModelState.READY ? "READY" : "UNAVAILABLE");
                if (info.error() != null) {
                    g.writeStringField("reason", info.error());
                }
                g.writeEndObject();
            }
            if (!readyOnly) {
                for (String name : onDisk) {
                    g.writeStartObject();
                    g.writeStringField("name", name);
                    g.writeStringField("state", "UNAVAILABLE");
                    g.writeStringField("reason", "unloaded");
                    g.writeEndObject();
                }
            }
            g.writeEndArray();
        });
    }

    /**
     * @param split the traffic split to set once the model has loaded (checked against the versions
     *     it then has), or null to leave the split as it is
     */
    HttpReply load(String model, TrafficApi.Change split) {
        HttpReply refused = management.requireExplicit("load models");
        if (refused != null) {
            return refused;
        }
        List<ModelSource> sources;
        try {
            sources = repository.scan(List.of(model));
        } catch (ConfigException e) {
            throw new ServingException.NotFound(e.getMessage());
        }
        if (sources.isEmpty()) {
            throw new ServingException.InvalidInput("model '" + model + "' could not be read from the repository;"
                    + " see the server log");
        }
        LoadOutcome outcome = manager.load(sources.get(0));
        if (!outcome.ok()) {
            return JsonReplies.error(outcome.serving().isEmpty() ? HttpResponseStatus.BAD_REQUEST
                    : HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    "failed to load model '" + model + "': " + String.join("; ", outcome.failures()));
        }
        if (split != null) {
            traffic.apply(model, split);
        }
        return empty();
    }

    HttpReply unload(String model) {
        HttpReply refused = management.requireExplicit("unload models");
        if (refused != null) {
            return refused;
        }
        manager.unload(model);
        return empty();
    }

    private static HttpReply empty() {
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeEndObject();
        });
    }
}
