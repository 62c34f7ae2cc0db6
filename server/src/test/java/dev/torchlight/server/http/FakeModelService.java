package dev.torchlight.server.http;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.StubVersion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * A model service with in-memory models, for driving the HTTP front end without an engine.
 * Models run on a separate thread, as the real workers do.
 *
 * <ul>
 *   <li>{@code addone}: FP32 x[4] → y = x + 1, batched (max 8), versions 1 and 2 (2 adds 2)
 *   <li>{@code echo}: one input per datatype, named after it in lower case, shape [-1]; returns them as is; unbatched
 *   <li>{@code pair}: FP32 a[2], b[2] → sum, diff; batched
 *   <li>{@code split}: INT64 x[2] → first, second (its two elements); batched
 *   <li>{@code doubler}: INT32 x[-1, 2] → y = 2x; unbatched
 *   <li>{@code manual}: FP32 x[1] → y; each request waits in {@link #pending} until the test completes it
 *   <li>{@code failing}: FP32 x[1]; fails with {@link #failure}
 * </ul>
 */
final class FakeModelService implements ModelService, AutoCloseable {

    /** A request as one version of a fake model received it. */
    record Call(long version, InferenceRequest request) {
        List<Tensor> inputs() {
            return request.inputs();
        }
    }

    record Model(ModelConfig config, List<Long> versions, Function<Call, List<Tensor>> run) {}

    /** A request to {@code manual}, completed by the test. */
    record Pending(InferenceRequest request, CompletableFuture<InferenceResponse> future) {
        void answer() {
            future.complete(new InferenceResponse("manual", 1, request.id(),
                    List.of(request.inputs().get(0).withName("y"))));
        }
    }

    final Map<String, Model> models = new LinkedHashMap<>();
    final Map<String, Boolean> readiness = new ConcurrentHashMap<>();
    final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    final List<InferenceRequest> received = Collections.synchronizedList(new ArrayList<>());
    /** The version each received request went to, in the same order. */
    final List<Long> receivedVersions = Collections.synchronizedList(new ArrayList<>());
    /** Statistics reported for a model (every version); models without an entry report none. */
    final Map<String, ModelStats> stats = new ConcurrentHashMap<>();
    volatile RuntimeException failure = new ServingException.Internal("engine failed", new IllegalStateException("x"));
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-worker"));

    FakeModelService() {
        add("addone", 8, List.of(1L, 2L), List.of(spec("x", DataType.FP32, 4)), List.of(spec("y", DataType.FP32, 4)),
                r -> {
                    Tensor x = r.inputs().get(0);
                    long version = r.version();
                    ByteBuffer in = x.data();
                    ByteBuffer out = le(in.remaining());
                    while (in.hasRemaining()) {
                        out.putFloat(in.getFloat() + version);
                    }
                    return List.of(new Tensor("y", DataType.FP32, x.shape(), out.flip()));
                });
        List<TensorSpec> all = Arrays.stream(DataType.values())
                .map(t -> spec(t.name().toLowerCase(Locale.ROOT), t, -1)).toList();
        add("echo", 0, List.of(1L), all, all, Call::inputs);
        add("pair", 4, List.of(1L), List.of(spec("a", DataType.FP32, 2), spec("b", DataType.FP32, 2)),
                List.of(spec("sum", DataType.FP32, 2), spec("diff", DataType.FP32, 2)), r -> {
                    ByteBuffer a = r.inputs().get(0).data();
                    ByteBuffer b = r.inputs().get(1).data();
                    ByteBuffer sum = le(a.remaining());
                    ByteBuffer diff = le(a.remaining());
                    while (a.hasRemaining()) {
                        float x = a.getFloat();
                        float y = b.getFloat();
                        sum.putFloat(x + y);
                        diff.putFloat(x - y);
                    }
                    long[] shape = r.inputs().get(0).shape();
                    return List.of(new Tensor("sum", DataType.FP32, shape, sum.flip()),
                            new Tensor("diff", DataType.FP32, shape, diff.flip()));
                });
        add("split", 4, List.of(1L), List.of(spec("x", DataType.INT64, 2)),
                List.of(spec("first", DataType.INT64), spec("second", DataType.INT64)), r -> {
                    Tensor x = r.inputs().get(0);
                    long n = x.dim(0);
                    ByteBuffer in = x.data();
                    ByteBuffer first = le((int) n * 8);
                    ByteBuffer second = le((int) n * 8);
                    for (int i = 0; i < n; i++) {
                        first.putLong(in.getLong());
                        second.putLong(in.getLong());
                    }
                    return List.of(new Tensor("first", DataType.INT64, new long[] {n}, first.flip()),
                            new Tensor("second", DataType.INT64, new long[] {n}, second.flip()));
                });
        add("doubler", 0, List.of(1L), List.of(spec("x", DataType.INT32, -1, 2)), List.of(spec("y", DataType.INT32, -1, 2)),
                r -> {
                    Tensor x = r.inputs().get(0);
                    ByteBuffer in = x.data();
                    ByteBuffer out = le(in.remaining());
                    while (in.hasRemaining()) {
                        out.putInt(in.getInt() * 2);
                    }
                    return List.of(new Tensor("y", DataType.INT32, x.shape(), out.flip()));
                });
        add("manual", 8, List.of(1L), List.of(spec("x", DataType.FP32, 1)), List.of(spec("y", DataType.FP32, 1)), null);
        add("failing", 8, List.of(1L), List.of(spec("x", DataType.FP32, 1)), List.of(spec("y", DataType.FP32, 1)), r -> {
            throw failure;
        });
    }

    private void add(String name, int maxBatch, List<Long> versions, List<TensorSpec> inputs, List<TensorSpec> outputs,
            Function<Call, List<Tensor>> run) {
        models.put(name, new Model(new ModelConfig(name, "torchscript", maxBatch, inputs, outputs, null, List.of(), EngineSettings.DEFAULT, HandlerSpec.TENSOR), versions, run));
        readiness.put(name, true);
    }

    static TensorSpec spec(String name, DataType type, long... shape) {
        return new TensorSpec(name, type, shape);
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    void setReady(String model, boolean ready) {
        readiness.put(model, ready);
    }

    @Override
    public ServedModel model(String name) {
        Model m = name == null ? null : models.get(name);
        if (m == null) {
            throw new ServingException.NotFound("unknown model '" + name + "'");
        }
        NavigableMap<Long, ServedVersion> versions = new TreeMap<>();
        for (long v : m.versions()) {
            versions.put(v, new FakeVersion(m, v));
        }
        return new ServedModel(name, m.config(), versions, null, null);
    }

    @Override
    public List<ServedModel> models() {
        return models.keySet().stream().map(this::model).toList();
    }

    @Override
    public boolean ready() {
        return readiness.values().stream().allMatch(Boolean::booleanValue);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }

    /** One version of a fake model; it checks requested outputs and answers only those, as the core does. */
    private final class FakeVersion extends StubVersion {
        private final Model model;

        FakeVersion(Model model, long version) {
            super(model.config().name(), version, model.config());
            this.model = model;
        }

        @Override
        public ModelState state() {
            return readiness.get(model()) ? ModelState.READY : ModelState.LOADING;
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            List<String> declared = model.config().outputs().stream().map(TensorSpec::name).toList();
            for (String name : request.outputs()) {
                if (!declared.contains(name)) {
                    return CompletableFuture.failedFuture(new ServingException.InvalidInput("model '" + model()
                            + "' has no output '" + name + "'; its outputs are " + declared));
                }
            }
            received.add(request);
            receivedVersions.add(version());
            if (!ready()) {
                return CompletableFuture.failedFuture(new ServingException.NotReady("model '" + model() + "' is loading"));
            }
            if (model.run() == null) {
                CompletableFuture<InferenceResponse> future = new CompletableFuture<>();
                pending.add(new Pending(request, future));
                return future;
            }
            return CompletableFuture.supplyAsync(() -> new InferenceResponse(model(), version(), request.id(),
                    select(model.run().apply(new Call(version(), request)), request.outputs())), worker);
        }

        private static List<Tensor> select(List<Tensor> outputs, List<String> requested) {
            return requested.isEmpty() ? outputs
                    : requested.stream().map(n -> outputs.stream().filter(t -> t.name().equals(n)).findFirst()
                            .orElseThrow()).toList();
        }

        @Override
        public ModelStats.Snapshot stats() {
            ModelStats s = stats.get(model());
            return s == null ? ModelStats.Snapshot.EMPTY : s.snapshot();
        }
    }
}
