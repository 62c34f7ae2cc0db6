package dev.torchlight.server.management;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

/**
 * TorchServe's {@code POST /models}: registers a model folder or {@code .tlar} archive (what
 * {@link ModelRegistrar} allows), or more versions of a registered model from the same folder. As
 * TorchServe: {@code model_name} registers it under another name; {@code initial_workers} (absent or
 * not above 0: the config's count) runs each new version on that many instances; the call answers
 * 200 when the versions have loaded, or, with {@code synchronous=false}, 202 at once while they load
 * in the background (the model is listed, loading, meanwhile); {@code batch_size},
 * {@code max_batch_delay}, {@code response_timeout}, {@code startup_timeout} and
 * {@code s3_sse_kms} are accepted and ignored (batching comes from config.yaml).
 */
final class Registration {
    /** TorchServe's runtimes (accepted: the model runs in torchlight's engine whatever it says) and torchlight's. */
    static final Set<String> RUNTIMES = Set.of("python", "python3", "LSP", "torchscript");
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private final ModelManager manager;
    private final ModelService routes;
    private final ModelRegistrar registrar;
    private final ManagementApi api;
    private final Executor background;

    Registration(ModelManager manager, ModelRegistrar registrar, ManagementApi api, Executor background) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.routes = manager.routes();
        this.registrar = Objects.requireNonNull(registrar, "registrar");
        this.api = Objects.requireNonNull(api, "api");
        this.background = Objects.requireNonNull(background, "background");
    }

    /** {@code POST /models?url=...}; runs on a management thread. */
    HttpReply register(QueryParams q) {
        HttpReply refused = api.requireExplicit("register models");
        if (refused != null) {
            return refused;
        }
        String url = q.string("url");
        if (url == null) {
            throw new ServingException.InvalidInput("Parameter url is required: a model folder or archive in the"
                    + " model repository, e.g. url=mlp or url=mlp.tlar");
        }
        if (url.isBlank()) {
            throw new ServingException.NotFound("empty url: name a model folder or archive in the model repository");
        }
        String runtime = q.string("runtime");
        if (runtime != null && !RUNTIMES.contains(runtime)) {
            throw new ServingException.InvalidInput("Invalid RuntimeType value: " + runtime + "; expected python,"
                    + " python3 or LSP (TorchServe's, accepted: the model runs in torchlight's engine) or torchscript");
        }
        ModelSource source = renamed(registrar.resolve(url), q.string("model_name"));
        checkHandler(source, q.string("handler"));
        int workers = Math.max(0, q.integer("initial_workers", 0));
        String model = source.name();
        boolean known = manager.contains(model);
        if (known) {
            HttpReply conflict = conflict(source);
            if (conflict != null) {
                return conflict;
            }
        }
        if (!q.flag("synchronous", true)) {
            manager.announce(source);
            ModelSource s = source;
            background.execute(() -> ManagementApi.report(model, () -> manager.register(s, workers)));
            return ManagementApi.status(HttpResponseStatus.ACCEPTED, ManagementApi.PROCESSING);
        }
        LoadOutcome outcome = manager.register(source, workers);
        if (outcome.loaded().isEmpty()) {
            if (!known) {
                manager.unload(model);
            }
            throw new ServingException.InvalidInput("model '" + model + "' failed to load: "
                    + String.join("; ", outcome.failures()));
        }
        ServedVersion newest = routes.resolve(model, outcome.loaded().get(outcome.loaded().size() - 1));
        return ManagementApi.status(HttpResponseStatus.OK, "Model \"" + model + "\" Version: " + newest.name()
                + " registered with " + newest.instances().size() + " initial workers"
                + (outcome.ok() ? "" : "; failed: " + String.join("; ", outcome.failures())));
    }

    /** The folder under {@code model_name} when given (TorchServe renames on register). */
    private static ModelSource renamed(ModelSource source, String name) {
        if (name == null || name.isBlank() || name.equals(source.name())) {
            return source;
        }
        if (!MODEL_NAME.matcher(name).matches()) {
            throw new ServingException.InvalidInput("model_name '" + name + "' is not a model name: expected letters,"
                    + " digits, '_', '.' and '-' (at most 128, starting with a letter or digit)");
        }
        return source.named(name);
    }

    /** A 409 for a registration that would add nothing; null when it adds versions. */
    private HttpReply conflict(ModelSource source) {
        String model = source.name();
        ModelSource known = manager.source(model);
        if (!known.directory().equals(source.directory())) {
            return JsonReplies.error(HttpResponseStatus.CONFLICT, "Model \"" + model + "\" is already registered"
                    + " from " + known.directory() + "; the versions of a model live in one folder: add the version"
                    + " folder there and register it again, or unregister the model first (DELETE /models/" + model
                    + ")");
        }
        ServedModel served = routes.model(model);
        List<Long> fresh = source.versions().keySet().stream().filter(v -> {
            ServedVersion loaded = served.versions().get(v);
            return loaded == null || loaded.state() == ModelState.FAILED;
        }).toList();
        if (fresh.isEmpty()) {
            return JsonReplies.error(HttpResponseStatus.CONFLICT, "Model version " + String.join(", ",
                    served.versionNames()) + " is already registered for model " + model + "; add a version folder"
                    + " to register another version, or reload the model (POST /v2/repository/models/" + model
                    + "/load)");
        }
        return null;
    }

    /** A {@code handler} parameter must be the one the model's config.yaml names: handlers are not set at registration. */
    private static void checkHandler(ModelSource source, String handler) {
        if (handler == null || handler.isBlank()) {
            return;
        }
        ModelConfig config;
        try {
            config = ModelConfigParser.parse(source.configFile(), source.configName());
        } catch (ConfigException e) {
            return; // the load reports it
        }
        String configured = switch (config.handler()) {
            case HandlerSpec.Tensors t -> "tensor";
            case HandlerSpec.ImageClassifier c -> "image_classifier";
            case HandlerSpec.Custom c -> c.className();
        };
        if (!handler.equals(configured)) {
            throw new ServingException.InvalidInput("handler '" + handler + "' is not the handler of model '"
                    + source.name() + "', which its config.yaml names '" + configured + "': torchlight takes a"
                    + " model's handler from its config.yaml, and runs no Python handlers"
                    + " (docs/MIGRATING_FROM_TORCHSERVE.md)");
        }
    }
}
