package dev.torchlight.scheduler;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loader of fake models for the {@link Fixtures} model. Each model answers {@code y = -x} (so every
 * row keeps its request's id) unless {@link #behaviour} says otherwise, and records what it ran.
 */
final class ScriptedEngine implements InstanceLoader {

    /** What a model does with one batch; may block or throw. */
    @FunctionalInterface
    interface Behaviour {
        List<Tensor> run(Model model, List<Tensor> inputs);
    }

    /** Runs before each load with the load's serial (0, 1, ...); may block or throw. */
    @FunctionalInterface
    interface LoadHook {
        void beforeLoad(int serial);
    }

    final List<Model> loaded = new CopyOnWriteArrayList<>();
    /** Where each load placed its instance, in load order. */
    final List<Placement> placements = new CopyOnWriteArrayList<>();
    final AtomicInteger loads = new AtomicInteger();
    volatile Behaviour behaviour = (model, inputs) -> negate(inputs);
    volatile LoadHook loadHook = serial -> { };

    @Override
    public LoadedModel load(Placement placement) {
        placements.add(placement);
        int serial = loads.getAndIncrement();
        loadHook.beforeLoad(serial);
        Model model = new Model(serial);
        loaded.add(model);
        return model;
    }

    /** {@code y = -x}, in a fresh buffer. */
    static List<Tensor> negate(List<Tensor> inputs) {
        Tensor x = inputs.get(0);
        ByteBuffer in = x.data();
        ByteBuffer out = ByteBuffer.allocate(in.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putLong(-in.getLong());
        }
        return List.of(new Tensor("y", DataType.INT64, x.shape(), out.flip()));
    }

    /** The request id of every row of an input batch (column 0). */
    static long[] ids(Tensor x) {
        ByteBuffer b = x.data();
        int rows = (int) x.dim(0);
        int width = (int) (x.elementCount() / rows);
        long[] ids = new long[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = b.getLong(r * width * 8);
        }
        return ids;
    }

    static EngineException outOfMemory(int rows) {
        return new EngineException("CUDA out of memory on " + rows + " rows", null, EngineException.Kind.OUT_OF_MEMORY);
    }

    /** One loaded fake model. */
    final class Model implements LoadedModel {
        final int serial;
        /** Rows of each run, in order. */
        final List<Integer> runs = new CopyOnWriteArrayList<>();
        /** Request ids seen in runs, in order (may repeat when a batch is retried in halves). */
        final List<Long> ids = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        volatile boolean closed;
        volatile int callsAfterClose;

        Model(int serial) {
            this.serial = serial;
        }

        @Override
        public List<Tensor> infer(List<Tensor> inputs) {
            if (closed) {
                callsAfterClose++;
            }
            runs.add((int) inputs.get(0).dim(0));
            for (long id : ScriptedEngine.ids(inputs.get(0))) {
                ids.add(id);
            }
            threads.add(Thread.currentThread().getName());
            return behaviour.run(this, inputs);
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
