package dev.torchlight.server.it;

import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real engine with faults that a request triggers: a row of a batch whose first element is one
 * of the markers below makes the instance that runs it block ({@link #GATE}), fail the run as a model
 * that cannot take that input ({@link #POISON}), or die as a GPU instance whose context broke
 * ({@link #KILL}: a device fault, after which the instance must be loaded again). Every load and
 * every run is recorded.
 */
final class FaultInjectingEngine implements Engine {
    /** Blocks the run until {@link #openGate} (at most 30 s). */
    static final float GATE = 1000f;
    /** Fails the run: the model cannot take this input. */
    static final float POISON = 2000f;
    /** Fails the run with a device fault: the instance is broken. */
    static final float KILL = 3000f;

    /** One engine run: the model, the instance's load serial, its rows, whether it failed. */
    record Run(String model, int serial, int rows, boolean failed) {}

    private final Engine real;
    final List<String> loads = new CopyOnWriteArrayList<>();
    final List<Run> runs = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch gate = new CountDownLatch(1);
    private volatile CountDownLatch gateEntered = new CountDownLatch(1);

    FaultInjectingEngine(Engine real) {
        this.real = real;
    }

    /** Shuts the gate: runs that meet it from now on wait for {@link #openGate}. */
    void closeGate() {
        gateEntered = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    /** Waits (at most 30 s) until a run meets the shut gate. */
    void awaitGateEntered() {
        await(gateEntered);
    }

    void openGate() {
        gate.countDown();
    }

    /** Loads of {@code model} so far (warm-up loads and reloads included). */
    long loads(String model) {
        return loads.stream().filter(model::equals).count();
    }

    /** The runs of {@code model}, in order. */
    List<Run> runs(String model) {
        return runs.stream().filter(r -> r.model().equals(model)).toList();
    }

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
        LoadedModel model = real.load(config, modelFile, placement);
        String name = config.name();
        int serial;
        synchronized (loads) {
            loads.add(name);
            serial = (int) loads(name);
        }
        return new LoadedModel() {
            @Override
            public List<Tensor> infer(List<Tensor> inputs) {
                int rows = (int) inputs.get(0).dim(0);
                boolean failed = true;
                try {
                    float marker = marker(inputs.get(0));
                    if (marker == GATE) {
                        CountDownLatch shut = gate;
                        gateEntered.countDown();
                        await(shut);
                    } else if (marker == POISON) {
                        throw new EngineException("input row holds the poison marker");
                    } else if (marker == KILL) {
                        throw new EngineException("CUDA error: an illegal memory access was encountered", null,
                                EngineException.Kind.DEVICE_FAULT);
                    }
                    List<Tensor> outputs = model.infer(inputs);
                    failed = false;
                    return outputs;
                } finally {
                    runs.add(new Run(name, serial, rows, failed));
                }
            }

            @Override
            public String stream() {
                return model.stream();
            }

            @Override
            public void close() {
                model.close();
            }
        };
    }

    /** The first marker among the rows' first elements, or 0. */
    private static float marker(Tensor input) {
        ByteBuffer data = input.data();
        int rows = (int) input.dim(0);
        int width = (int) (input.elementCount() / rows);
        for (int r = 0; r < rows; r++) {
            float first = data.getFloat(r * width * Float.BYTES);
            if (first == GATE || first == POISON || first == KILL) {
                return first;
            }
        }
        return 0;
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("waited 30 s for the gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
