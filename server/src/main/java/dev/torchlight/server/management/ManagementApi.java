package dev.torchlight.server.management;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelControl;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TorchServe's management API over the {@link ModelManager}: list, describe, scale, set the
 * default version, unregister ({@link Registration} registers). It answers as TorchServe does:
 * TorchServe's paths, parameters and defaults (a number that is absent or not a number takes its
 * default, never a 400), its status codes (202 for a change carried on in the background, 404 for an
 * unknown model or version), its reply shapes ({@code modelName}, {@code modelVersion},
 * {@code workers}, {@code {"status": ...}}), and its version strings: a version is named by its
 * public name ({@code 1.0}) or its number. Errors are {@code {"error": ...}} like the rest of
 * torchlight. Calls that change which models are loaded need {@code --model-control explicit};
 * scaling and default versions work in every mode.
 */
final class ManagementApi {
    /** TorchServe's answer to a change it carries on in the background. */
    static final String PROCESSING = "Processing worker updates...";
    /** TorchServe's page size, by default and at most. */
    static final int PAGE = 100;
    private static final Logger LOG = LoggerFactory.getLogger(ManagementApi.class);

    private final ModelManager manager;
    private final ModelService routes;
    private final ModelControl control;
    private final Executor background;

    /** @param background runs the changes answered with 202 before they are done */
    ManagementApi(ModelManager manager, ModelControl control, Executor background) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.routes = manager.routes();
        this.control = Objects.requireNonNull(control, "control");
        this.background = Objects.requireNonNull(background, "background");
    }

    /**
     * {@code GET /models?limit=&next_page_token=}: every model, by name, a page at a time. As
     * TorchServe: a limit that is absent, not a number, negative or above {@value #PAGE} is
     * {@value #PAGE}; a negative token is 0.
     */
    HttpReply list(QueryParams q) {
        int limit = q.integer("limit", PAGE);
        if (limit < 0 || limit > PAGE) {
            limit = PAGE;
        }
        int token = Math.max(0, q.integer("next_page_token", 0));
        Map<String, String> urls = new LinkedHashMap<>();
        for (ServedModel model : routes.models()) {
            try {
                urls.put(model.name(), manager.source(model.name()).directory().toString());
            } catch (ServingException.NotFound e) {
                // unloaded while listing: leave it out
            }
        }
        List<Map.Entry<String, String>> all = new ArrayList<>(urls.entrySet());
        int from = Math.min(token, all.size());
        int to = Math.min(all.size(), from + limit);
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

    /**
     * {@code GET /models/{m}} (the default version), {@code /models/{m}/all}, {@code /models/{m}/{v}}.
     *
     * @param version a version's name or number, {@code all}, or null for the default version
     */
    HttpReply describe(String model, String version) {
        ServedModel served = routes.model(model);
        List<ServedVersion> versions = "all".equals(version) ? List.copyOf(served.versions().values())
                : List.of(version == null ? served.defaultServed() : served.versionNamed(version));
        ServedVersion byDefault = served.defaultServed();
        Long defaultVersion = byDefault.version() > 0 ? byDefault.version() : null;
        String url = manager.source(model).directory().toString();
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartArray();
            for (ServedVersion v : versions) {
                ModelDescription.write(g, v, url, defaultVersion, served);
            }
            g.writeEndArray();
        });
    }

    /**
     * {@code PUT /models/{m}[/{v}]?min_worker=N[&synchronous=true]}: runs one version (the named one,
     * {@code model_version}, or the default) on N instances. As TorchServe: {@code min_worker} is 1
     * when absent or not a number, {@code max_worker} may not be below it (checked first), and the
     * call answers 202 at once and scales in the background unless {@code synchronous=true}.
     * {@code number_gpu} and {@code timeout} are accepted and, as by TorchServe, ignored.
     *
     * @param version the version named in the path, or null
     */
    HttpReply scale(String model, String version, QueryParams q) {
        int min = q.integer("min_worker", 1);
        int max = q.integer("max_worker", min);
        if (max < min) {
            throw new ServingException.InvalidInput("max_worker cannot be less than min_worker.");
        }
        if (min < 1) {
            throw new ServingException.InvalidInput("min_worker must be at least 1, got " + min + ": torchlight runs"
                    + " every loaded version on one instance or more; to release a version, unregister it"
                    + " (DELETE /models/" + model + "/<version>)");
        }
        String named = version != null ? version : q.string("model_version");
        ServedModel served = routes.model(model);
        ServedVersion target = named == null ? served.defaultServed() : served.versionNamed(named);
        if (target.version() == 0) {
            throw new ServingException.NotReady("model '" + model + "' has no version to scale: " + served.error());
        }
        if (!q.flag("synchronous", false)) {
            background.execute(() -> report(model, () -> manager.scale(model, target.version(), min)));
            return status(HttpResponseStatus.ACCEPTED, PROCESSING);
        }
        LoadOutcome outcome = manager.scale(model, target.version(), min);
        if (!outcome.ok()) {
            return JsonReplies.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "scaling model '" + model
                    + "' failed; the previous instances keep serving: " + String.join("; ", outcome.failures()));
        }
        return status(HttpResponseStatus.OK, "Workers scaled to " + min + " for model: " + model
                + (named != null ? ", version: " + target.name() : ""));
    }

    /** Runs a change answered with 202, logging what failed: nobody waits for its answer. */
    static void report(String model, Supplier<LoadOutcome> change) {
        try {
            LoadOutcome outcome = change.get();
            if (!outcome.ok()) {
                LOG.error("model {}: {}", model, String.join("; ", outcome.failures()));
            }
        } catch (RuntimeException e) {
            LOG.error("model {}: {}", model, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** {@code PUT /models/{m}/{v}/set-default}. */
    HttpReply setDefault(String model, String version) {
        ServedVersion target = routes.model(model).versionNamed(version);
        manager.setDefault(model, target.version());
        return status(HttpResponseStatus.OK, "Default version successfully updated for model \"" + model + "\" to \""
                + target.name() + "\"");
    }

    /**
     * {@code DELETE /models/{m}[/{v}]}: drains, then releases; without a version, every version. As
     * TorchServe, the default version cannot be removed while other versions remain (403).
     */
    HttpReply unregister(String model, String version) {
        HttpReply refused = requireExplicit("unregister models");
        if (refused != null) {
            return refused;
        }
        if (version == null) {
            manager.unload(model);
        } else {
            ServedModel served = routes.model(model);
            ServedVersion target = served.versionNamed(version);
            if (served.versions().size() > 1 && target == served.defaultServed()) {
                return JsonReplies.error(HttpResponseStatus.FORBIDDEN, "Cannot remove default version for model "
                        + model + ": make another version the default first (PUT /models/" + model
                        + "/<version>/set-default), or remove the whole model (DELETE /models/" + model + ")");
            }
            manager.unload(model, target.version());
        }
        return status(HttpResponseStatus.OK, "Model \"" + model + "\" unregistered");
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
