package dev.torchlight.server;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.InstanceStatus;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A model version for front-end tests, with no engine behind it: ready unless told otherwise, no
 * instances, empty statistics; a test gives it its {@link #infer}.
 */
public abstract class StubVersion implements ServedVersion {
    private final String model;
    private final long version;
    private final ModelConfig config;
    public volatile boolean ready = true;

    protected StubVersion(String model, long version, ModelConfig config) {
        this.model = model;
        this.version = version;
        this.config = config;
    }

    /** A stub that answers with {@code answer}. */
    public static StubVersion answering(String model, long version, ModelConfig config,
            java.util.function.Function<InferenceRequest, CompletableFuture<InferenceResponse>> answer) {
        return new StubVersion(model, version, config) {
            @Override
            public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
                return answer.apply(request);
            }
        };
    }

    /** Routes to these versions, each the only version of its model. */
    public static ModelService serving(StubVersion... versions) {
        return new ModelService() {
            @Override
            public ServedModel model(String name) {
                for (StubVersion v : versions) {
                    if (v.model().equals(name)) {
                        TreeMap<Long, ServedVersion> one = new TreeMap<>();
                        one.put(v.version(), v);
                        return new ServedModel(name, v.config(), one, null, null);
                    }
                }
                throw new ServingException.NotFound("no model '" + name + "'");
            }

            @Override
            public List<ServedModel> models() {
                return java.util.Arrays.stream(versions).map(v -> model(v.model())).toList();
            }

            @Override
            public boolean ready() {
                return java.util.Arrays.stream(versions).allMatch(StubVersion::ready);
            }
        };
    }

    @Override
    public String model() {
        return model;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public ModelState state() {
        return ready ? ModelState.READY : ModelState.LOADING;
    }

    @Override
    public String error() {
        return null;
    }

    @Override
    public List<InstanceStatus> instances() {
        return List.of();
    }

    @Override
    public int queued() {
        return 0;
    }

    @Override
    public ModelStats.Snapshot stats() {
        return ModelStats.Snapshot.EMPTY;
    }

    @Override
    public boolean hold() {
        return true;
    }

    @Override
    public void release() {
        // nothing to drain
    }
}
