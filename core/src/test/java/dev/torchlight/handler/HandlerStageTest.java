package dev.torchlight.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ModelVersionInfo;
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
            List.of(new TensorSpec("y", DataType.FP32, new long[] {1})), null, List.of(), 0,
            new HandlerSpec.Custom("Doubler", "d.jar"));

    /** Runs "the model" (y = 2x) on the caller's thread and records what it was sent. */
    static final class FakeService implements ModelService {
        final List<InferenceRequest> requests = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<ModelVersionInfo> models() {
            return List.of(describe("doubler", null));
        }

        @Override
        public ModelVersionInfo describe(String model, Long version) {
            if (!model.equals("doubler")) {
                throw new ServingException.NotFound("unknown model '" + model + "'");
            }
            return new ModelVersionInfo("doubler", 3, List.of(3L), CONFIG, ModelState.READY, null,
                    ModelStats.Snapshot.EMPTY);
        }

        @Override
        public boolean ready() {
            return true;
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
        FakeService service = new FakeService();
        Doubler doubler = new Doubler();
        try (HandlerStage stage = new HandlerStage(service, name -> Path.of(name), context -> doubler, 2)) {
            HandlerAnswer answer = stage.submit("doubler", null, 2, 500, () -> List.of(item("1"), item("2.5"),
                    item("-4"))).join();
            assertThat(answer.items()).containsExactly(2f, 5f, -8f);
            assertThat(answer.version()).isEqualTo(3);
            InferenceRequest sent = service.requests.get(0);
            assertThat(sent.inputs().get(0).shape()).containsExactly(3, 1);
            assertThat(sent.version()).isEqualTo(3L);
            assertThat(sent.priority()).isEqualTo(2);
            assertThat(sent.timeoutMicros()).isEqualTo(500);
            assertThat(doubler.threads).isNotEmpty().allMatch(t -> t.startsWith("preprocess-"));
        }
    }

    @Test
    void badItemsTooManyItemsAndUnknownModelsFailCleanly() {
        FakeService service = new FakeService();
        try (HandlerStage stage = new HandlerStage(service, name -> Path.of(name), context -> new Doubler(), 1)) {
            assertThatThrownBy(() -> stage.submit("doubler", null, 0, 0, () -> List.of(item("x"))).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(ServingException.InvalidInput.class);
            assertThatThrownBy(() -> stage.submit("doubler", null, 0, 0,
                    () -> List.of(item("1"), item("1"), item("1"), item("1"), item("1"))).join())
                    .hasCauseInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("at most 4");
            assertThatThrownBy(() -> stage.submit("doubler", null, 0, 0, List::of).join())
                    .hasCauseInstanceOf(ServingException.InvalidInput.class);
            assertThatThrownBy(() -> stage.submit("nope", null, 0, 0, List::of))
                    .isInstanceOf(ServingException.NotFound.class);
            assertThat(service.requests).isEmpty();
        }
    }

    @Test
    void customHandlersNeedTheFlag() {
        try (HandlerStage stage = new HandlerStage(new FakeService(), name -> Path.of(name), HandlerFactory.standard(false),
                1)) {
            assertThatThrownBy(() -> stage.submit("doubler", null, 0, 0, () -> List.of(item("1"))).join())
                    .hasCauseInstanceOf(ServingException.NotReady.class)
                    .hasMessageContaining("--allow-custom-handlers");
        }
    }
}
