package dev.torchlight.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.BatchInput;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.metrics.ModelStats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ragged inputs: requests whose id lists differ in length share a batch, the model gets the ids
 * concatenated with the offsets the server made, and each request gets its own rows back.
 */
class RaggedBatchingTest {
    private static final TensorSpec IDS = new TensorSpec("ids", DataType.INT64, new long[] {-1}, true, null);
    private static final TensorSpec DENSE = new TensorSpec("dense", DataType.FP32, new long[] {2});

    private ModelScheduler scheduler;

    @AfterEach
    void close() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private static ModelConfig config(List<BatchInput> batchInputs, int preferred) {
        return new ModelConfig("bag", "torchscript", 16, List.of(IDS, DENSE),
                List.of(new TensorSpec("sum", DataType.INT64, new long[] {1})),
                preferred == 0 ? null : Fixtures.batching(TimeUnit.HOURS.toMicros(1), preferred),
                List.of(new InstanceGroup(1, InstanceGroup.Kind.CPU, List.of())), EngineSettings.DEFAULT,
                HandlerSpec.TENSOR, batchInputs);
    }

    private static BatchInput offsets(BatchInput.Kind kind, DataType type) {
        return new BatchInput("offsets", kind, "ids", type);
    }

    /** {@code ids} of {@code rows} rows, each with these values. */
    private static Tensor ids(int rows, long... each) {
        ByteBuffer b = ByteBuffer.allocate(rows * each.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (long v : each) {
                b.putLong(v * (r + 1));
            }
        }
        return new Tensor("ids", DataType.INT64, new long[] {rows, each.length}, b.flip());
    }

    private static Tensor dense(int rows) {
        ByteBuffer b = ByteBuffer.allocate(rows * 2 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * 2; i++) {
            b.putFloat(i);
        }
        return new Tensor("dense", DataType.FP32, new long[] {rows, 2}, b.flip());
    }

    private static long[] longs(Tensor t) {
        ByteBuffer b = t.data();
        long[] out = new long[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.dataType() == DataType.INT32 ? b.getInt() : b.getLong();
        }
        return out;
    }

    @Test
    void theShapeKeyIgnoresRaggedLengthsButNotOtherDimensions() {
        BatchLayout layout = BatchLayout.of(config(List.of(), 0));

        assertThat(layout.shapeKey(List.of(ids(1, 1, 2, 3), dense(1))))
                .isEqualTo(layout.shapeKey(List.of(ids(2, 7), dense(2))));
        Tensor wideDense = new Tensor("dense", DataType.FP32, new long[] {1, 3}, ByteBuffer.allocate(12));
        assertThat(layout.shapeKey(List.of(ids(1, 1, 2, 3), dense(1))))
                .isNotEqualTo(layout.shapeKey(List.of(ids(1, 1, 2, 3), wideDense)));
        // Without allow_ragged_batch the lengths are part of the key, as before.
        assertThat(ShapeKey.of(List.of(ids(1, 1, 2, 3), dense(1)), true))
                .isNotEqualTo(ShapeKey.of(List.of(ids(1, 7), dense(1)), true));
    }

    @ParameterizedTest
    @EnumSource(BatchInput.Kind.class)
    void gatherConcatenatesRaggedRowsAndCountsEachRowsElements(BatchInput.Kind kind) {
        BatchLayout layout = BatchLayout.of(config(List.of(offsets(kind, DataType.INT64)), 0));
        // Rows of 3, 1, 1 (a request of two rows of one id each) and 2 ids.
        List<List<Tensor>> requests = List.of(List.of(ids(1, 1, 2, 3), dense(1)), List.of(ids(2, 4), dense(2)),
                List.of(ids(1, 5, 6), dense(1)));

        List<Tensor> model = layout.gather(requests, new int[] {1, 2, 1}, 4);

        assertThat(model).extracting(Tensor::name).containsExactly("ids", "dense", "offsets");
        assertThat(model.get(0).shape()).containsExactly(7);
        assertThat(longs(model.get(0))).containsExactly(1, 2, 3, 4, 8, 5, 6);
        assertThat(model.get(1).shape()).containsExactly(4, 2);
        long[] expected = switch (kind) {
            case BATCH_ELEMENT_COUNT -> new long[] {3, 1, 1, 2};
            case BATCH_ACCUMULATED_ELEMENT_COUNT -> new long[] {3, 4, 5, 7};
            case BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO -> new long[] {0, 3, 4, 5, 7};
        };
        assertThat(model.get(2).shape()).containsExactly(expected.length);
        assertThat(longs(model.get(2))).containsExactly(expected);
        assertThat(model.get(2).data().isDirect()).isTrue();
    }

    @Test
    void offsetsMayBeInt32() {
        BatchLayout layout = BatchLayout.of(config(List.of(
                offsets(BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, DataType.INT32)), 0));

        List<Tensor> model = layout.gather(List.of(List.of(ids(1, 1, 2), dense(1)), List.of(ids(1, 3), dense(1))),
                new int[] {1, 1}, 2);

        assertThat(model.get(2).dataType()).isEqualTo(DataType.INT32);
        assertThat(longs(model.get(2))).containsExactly(0, 2, 3);
    }

    @Test
    void oneRequestAloneIsFlattenedWithoutACopyAndGetsItsOffsets() {
        BatchLayout layout = BatchLayout.of(config(List.of(
                offsets(BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, DataType.INT64)), 0));
        Tensor ids = ids(2, 1, 2, 3);
        Tensor dense = dense(2);

        List<Tensor> model = layout.modelInputs(List.of(ids, dense));

        assertThat(model.get(0).shape()).containsExactly(6);
        assertThat(longs(model.get(0))).containsExactly(1, 2, 3, 2, 4, 6);
        assertThat(model.get(1)).isSameAs(dense);
        assertThat(longs(model.get(2))).containsExactly(0, 3, 6);
    }

    @Test
    void aModelWithoutRaggedOrBatchInputsGetsTheRequestsTensorsAsTheyAre() {
        ModelConfig plain = Fixtures.config(8, null);
        List<Tensor> inputs = List.of(Fixtures.rowsOf(1, 2, 3));

        assertThat(BatchLayout.of(plain).modelInputs(inputs)).isSameAs(inputs);
    }

    /**
     * A fake EmbeddingBag(mode=sum) over an identity table: each bag's answer is the sum of its ids,
     * read through the offsets the server made, so a wrong concatenation or offset shows.
     */
    private static final class SumBags implements LoadedModel {
        final List<Integer> runs = new CopyOnWriteArrayList<>();

        @Override
        public List<Tensor> infer(List<Tensor> inputs) {
            long[] ids = longs(inputs.get(0));
            long[] offsets = longs(inputs.get(2));
            int bags = offsets.length - 1;
            assertThat(offsets[bags]).as("the last offset is the number of ids").isEqualTo(ids.length);
            assertThat(inputs.get(1).dim(0)).as("dense rows").isEqualTo(bags);
            runs.add(bags);
            ByteBuffer out = ByteBuffer.allocate(bags * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int bag = 0; bag < bags; bag++) {
                long sum = 0;
                for (long i = offsets[bag]; i < offsets[bag + 1]; i++) {
                    sum += ids[(int) i];
                }
                out.putLong(sum);
            }
            return List.of(new Tensor("sum", DataType.INT64, new long[] {bags, 1}, out.flip()));
        }

        @Override
        public void close() {}
    }

    @Test
    void requestsOfDifferentLengthsShareABatchAndEachGetsTheSumsItGetsAlone() throws Exception {
        ModelConfig config = config(List.of(
                offsets(BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, DataType.INT64)), 5);
        SumBags model = new SumBags();
        // Preferred size 5 and an hour's delay on a clock that never moves: the batch goes when 5 rows wait.
        scheduler = ModelScheduler.start(config, 1, Fixtures.cpus(config), placement -> model, new ModelStats(),
                new FakeClock());
        BatchLayout layout = BatchLayout.of(config);
        List<List<Tensor>> requests = List.of(List.of(ids(1, 1, 2, 3), dense(1)), List.of(ids(1, 10), dense(1)),
                List.of(ids(2, 100, 200), dense(2)), List.of(ids(1, 7, 7, 7, 7, 7), dense(1)));
        long[][] expected = {{6}, {10}, {300, 600}, {35}};

        List<Fixtures.FutureAnswer> answers = new ArrayList<>();
        for (List<Tensor> inputs : requests) {
            Fixtures.FutureAnswer answer = new Fixtures.FutureAnswer();
            scheduler.submit(inputs, (int) inputs.get(0).dim(0), layout.shapeKey(inputs), 0, 0, answer);
            answers.add(answer);
        }

        for (int j = 0; j < requests.size(); j++) {
            Tensor sum = answers.get(j).get(10, TimeUnit.SECONDS).get(0);
            assertThat(sum.shape()).containsExactly(expected[j].length, 1);
            assertThat(longs(sum)).as("request " + j).containsExactly(expected[j]);
            // The same request alone, as the model gets it then.
            assertThat(longs(new SumBags().infer(layout.modelInputs(requests.get(j))).get(0)))
                    .containsExactly(expected[j]);
        }
        assertThat(model.runs).as("one run of all five rows").containsExactly(5);
    }
}
