package dev.torchlight.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.InstanceStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * The handler stage with a fake model service (the scheduler is not this unit's): items are
 * preprocessed on the stage's own threads, stacked into one batch, and each item's outputs are
 * postprocessed in order.
 */
class HandlerStageTest {
    static final ModelConfig CONFIG = new ModelConfig("doubler", "torchscript", 4,
            List.of(new TensorSpec("x", DataType.FP32, new long[] {1})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {1})), null, List.of(), EngineSettings.DEFAULT,
            new HandlerSpec.Custom("Doubler", "d.jar"));

    /** Version 3 of "the model" (y = 2x), run on the caller's thread; records what it was sent. */
    static class FakeVersion implements ServedVersion {
        final List<InferenceRequest> requests = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String model() {
            return "doubler";
        }

        @Override
        public long version() {
            return 3;
        }

        @Override
        public ModelConfig config() {
            return CONFIG;
        }

        @Override
        public ModelState state() {
            return ModelState.READY;
        }

        @Override
        public String error() {
            return null;
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            requests.add(request);
            ByteBuffer in = request.inputs().get(0).data();
            ByteBuffer out = ByteBuffer.allocate(in.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < in.remaining() / 4; i++) {
                out.putFloat(i * 4, in.getFloat(i * 4) * 2);
            }
            return CompletableFuture.completedFuture(new InferenceResponse("doubler", 3, null,
                    List.of(new Tensor("y", DataType.FP32, request.inputs().get(0).shape(), out))));
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
        }
    }

    /** Parses the item's text as one float; records the thread it ran on. */
    static final class Doubler implements Handler {
        final List<String> threads = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<Tensor> preprocess(HandlerItem item) {
            threads.add(Thread.currentThread().getName());
            float v;
            try {
                v = Float.parseFloat(new String(item.data(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (NumberFormatException e) {
                throw new ServingException.InvalidInput("not a number");
            }
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v);
            return List.of(new Tensor("x", DataType.FP32, new long[] {1}, b));
        }

        @Override
        public Object postprocess(List<Tensor> outputs) {
            threads.add(Thread.currentThread().getName());
            return outputs.get(0).data().getFloat(0);
        }
    }

    static HandlerItem item(String text) {
        return new HandlerItem("body", null, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void itemsArePreprocessedOnTheStagesThreadsBatchedAndAnsweredInOrder() {
        FakeVersion version = new FakeVersion();
        Doubler doubler = new Doubler();
        try (HandlerStage stage = new HandlerStage(name -> Path.of(name), context -> doubler, 2)) {
            HandlerAnswer answer = stage.submit(version, 2, 500, () -> List.of(item("1"), item("2.5"),
                    item("-4"))).join();
            assertThat(answer.items()).containsExactly(2f, 5f, -8f);
            assertThat(answer.version()).isEqualTo(3);
            InferenceRequest sent = version.requests.get(0);
            assertThat(sent.inputs().get(0).shape()).containsExactly(3, 1);
            assertThat(sent.priority()).isEqualTo(2);
            assertThat(sent.timeoutMicros()).isEqualTo(500);
            assertThat(doubler.threads).isNotEmpty().allMatch(t -> t.startsWith("preprocess-"));
        }
    }

    @Test
    void badItemsTooManyItemsAndUnknownModelsFailCleanly() {
        FakeVersion version = new FakeVersion();
        try (HandlerStage stage = new HandlerStage(name -> Path.of(name), context -> new Doubler(), 1)) {
            assertThatThrownBy(() -> stage.submit(version, 0, 0, () -> List.of(item("x"))).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(ServingException.InvalidInput.class);
            assertThatThrownBy(() -> stage.submit(version, 0, 0,
                    () -> List.of(item("1"), item("1"), item("1"), item("1"), item("1"))).join())
                    .hasCauseInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("at most 4");
            assertThatThrownBy(() -> stage.submit(version, 0, 0, List::of).join())
                    .hasCauseInstanceOf(ServingException.InvalidInput.class);
            assertThatThrownBy(() -> stage.submit(new FailedVersionStandIn(), 0, 0, List::of))
                    .isInstanceOf(ServingException.NotReady.class).hasMessageContaining("config.yaml is broken");
            assertThat(version.requests).isEmpty();
        }
    }

    /** A version whose config could not be read. */
    static final class FailedVersionStandIn extends FakeVersion {
        @Override
        public ModelConfig config() {
            return null;
        }

        @Override
        public ModelState state() {
            return ModelState.FAILED;
        }

        @Override
        public String error() {
            return "config.yaml is broken";
        }
    }

    @Test
    void customHandlersNeedTheFlag() {
        FakeVersion version = new FakeVersion();
        try (HandlerStage stage = new HandlerStage(name -> Path.of(name), HandlerFactory.standard(HandlerConfig.defaults()),
                1)) {
            assertThatThrownBy(() -> stage.submit(version, 0, 0, () -> List.of(item("1"))).join())
                    .hasCauseInstanceOf(ServingException.NotReady.class)
                    .hasMessageContaining("--allow-custom-handlers");
        }
    }
}
