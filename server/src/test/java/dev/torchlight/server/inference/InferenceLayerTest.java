package dev.torchlight.server.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.StubVersion;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The inference layer over stub versions: one resolution and one hold per request, routing, statistics. */
class InferenceLayerTest {
    static final ModelConfig TENSORS = new ModelConfig("m", "torchscript", 4,
            List.of(new TensorSpec("x", DataType.FP32, new long[] {1})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {1})), null, List.of(), EngineSettings.DEFAULT, HandlerSpec.TENSOR);

    /** A version that counts holds and releases and answers when the test says so. */
    static final class CountingVersion extends StubVersion {
        final AtomicInteger holds = new AtomicInteger();
        final AtomicInteger releases = new AtomicInteger();
        final CompletableFuture<InferenceResponse> answer = new CompletableFuture<>();

        CountingVersion(long version) {
            super("m", version, TENSORS);
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            return answer;
        }

        @Override
        public boolean hold() {
            holds.incrementAndGet();
            return true;
        }

        @Override
        public void release() {
            releases.incrementAndGet();
        }
    }

    /** Routes "m" to its versions (newest is the default) and counts resolutions. */
    static final class Routes implements ModelService {
        final AtomicInteger resolutions = new AtomicInteger();
        final TreeMap<Long, ServedVersion> versions = new TreeMap<>();

        Routes(ServedVersion... versions) {
            for (ServedVersion v : versions) {
                this.versions.put(v.version(), v);
            }
        }

        @Override
        public ServedModel model(String name) {
            if (!name.equals("m")) {
                throw new ServingException.NotFound("no model '" + name + "'");
            }
            resolutions.incrementAndGet();
            return new ServedModel("m", TENSORS, versions, null, null);
        }

        @Override
        public List<ServedModel> models() {
            return List.of(model("m"));
        }

        @Override
        public boolean ready() {
            return true;
        }
    }

    private static InferenceRequest request() {
        return new InferenceRequest("r", List.of(), List.of(), 0, 0);
    }

    @Test
    void aRequestResolvesOnceAndHoldsItsVersionUntilAnswered() {
        CountingVersion v1 = new CountingVersion(1);
        CountingVersion v2 = new CountingVersion(2);
        Routes routes = new Routes(v1, v2);
        InferenceLayer layer = new InferenceLayer(routes, null);
        List<ServedVersion> decodedFor = new java.util.ArrayList<>();

        CompletableFuture<String> reply = layer.infer("m", null, target -> {
            decodedFor.add(target);
            return new Work.Tensors<>(request(), r -> "answered by " + r.version());
        });

        assertThat(routes.resolutions).hasValue(1);
        assertThat(decodedFor).containsExactly(v2);
        assertThat(v2.holds).hasValue(1);
        assertThat(v2.releases).as("held while it runs").hasValue(0);
        v2.answer.complete(new InferenceResponse("m", 2, "r", List.of()));
        assertThat(reply.join()).isEqualTo("answered by 2");
        assertThat(v2.releases).hasValue(1);
        assertThat(v1.holds).hasValue(0);
    }

    @Test
    void aFailedAnswerReleasesTheHoldOnce() {
        CountingVersion v1 = new CountingVersion(1);
        InferenceLayer layer = new InferenceLayer(new Routes(v1), null);

        CompletableFuture<String> reply = layer.infer("m", 1L, t -> new Work.Tensors<>(request(), r -> "ok"));
        v1.answer.completeExceptionally(new ServingException.TimedOut("too late"));

        assertThat(reply).isCompletedExceptionally();
        assertThat(v1.holds).hasValue(1);
        assertThat(v1.releases).hasValue(1);
    }

    @Test
    void aRequestTheDecoderRefusesReleasesItsHoldAndIsRefused() {
        CountingVersion v1 = new CountingVersion(1);
        InferenceLayer layer = new InferenceLayer(new Routes(v1), null);

        assertThatThrownBy(() -> layer.infer("m", null, t -> {
            throw new ServingException.InvalidInput("bad body");
        })).isInstanceOf(ServingException.InvalidInput.class).hasMessage("bad body");
        assertThat(v1.holds).hasValue(1);
        assertThat(v1.releases).hasValue(1);
    }

    @Test
    void itemsForAModelWithoutAHandlerAreRefusedNamingTheModel() {
        CountingVersion v1 = new CountingVersion(1);
        InferenceLayer layer = new InferenceLayer(new Routes(v1), null);

        assertThatThrownBy(() -> layer.infer("m", null,
                t -> new Work.Items<>(List::of, RequestControls.NONE, answer -> "unused")))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("model 'm' takes tensors, not items for a handler (images, BYTES); its config names no"
                        + " handler");
        assertThat(v1.releases).hasValue(1);
    }

    @Test
    void itemsForAModelWithAHandlerNeedTheHandlerStage() {
        ModelConfig withHandler = new ModelConfig("h", "torchscript", 4, TENSORS.inputs(), TENSORS.outputs(), null,
                List.of(), EngineSettings.DEFAULT, new HandlerSpec.Custom("C", "c.jar"));
        StubVersion h = StubVersion.answering("h", 1, withHandler, r -> new CompletableFuture<>());
        InferenceLayer layer = new InferenceLayer(StubVersion.serving(h), null);

        assertThatThrownBy(() -> layer.infer("h", null,
                t -> new Work.Items<>(List::of, RequestControls.NONE, answer -> "unused")))
                .isInstanceOf(ServingException.NotReady.class)
                .hasMessageContaining("needs its handler");
    }

    @Test
    void unknownModelsAndVersionsAreNotFoundBeforeAnythingIsDecoded() {
        InferenceLayer layer = new InferenceLayer(new Routes(new CountingVersion(1)), null);
        Decoder<String> never = t -> {
            throw new AssertionError("decoded");
        };

        assertThatThrownBy(() -> layer.infer("nope", null, never)).isInstanceOf(ServingException.NotFound.class);
        assertThatThrownBy(() -> layer.infer("m", 7L, never)).isInstanceOf(ServingException.NotFound.class)
                .hasMessageContaining("no version 7");
    }

    @Test
    void statisticsCoverEveryVersionOneModelOrOneVersion() {
        CountingVersion v1 = new CountingVersion(1);
        CountingVersion v2 = new CountingVersion(2);
        InferenceLayer layer = new InferenceLayer(new Routes(v1, v2), null);

        assertThat(layer.statistics(null, null)).containsExactly(v1, v2);
        assertThat(layer.statistics("m", null)).containsExactly(v1, v2);
        assertThat(layer.statistics("m", 2L)).containsExactly(v2);
        assertThatThrownBy(() -> layer.statistics("m", 3L)).isInstanceOf(ServingException.NotFound.class);
        assertThatThrownBy(() -> layer.statistics("x", null)).isInstanceOf(ServingException.NotFound.class);
    }
}
