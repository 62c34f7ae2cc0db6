package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import inference.DataType;
import inference.GRPCInferenceServiceGrpc;
import inference.InferParameter;
import inference.InferTensorContents;
import inference.ModelConfigRequest;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import inference.ModelInput;
import inference.ModelInstanceGroup;
import inference.ModelMetadataRequest;
import inference.ModelMetadataResponse;
import inference.ModelReadyRequest;
import inference.ModelStatisticsRequest;
import inference.ModelStatisticsResponse;
import inference.ModelStreamInferResponse;
import inference.RepositoryIndexRequest;
import inference.RepositoryIndexResponse;
import inference.ServerLiveRequest;
import inference.ServerMetadataRequest;
import inference.ServerMetadataResponse;
import inference.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The KServe v2 gRPC service of the real server with the real engine and fixture models, through
 * a real grpc-java client: every RPC, the outputs against PyTorch's goldens (raw and typed
 * contents, unary and streaming), health and reflection.
 */
class GrpcEndpointsTest {
    static ServerHarness harness;
    static ManagedChannel channel;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
        channel = channel(harness);
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        harness.close();
    }

    static ManagedChannel channel(ServerHarness server) {
        return NettyChannelBuilder.forAddress("127.0.0.1", server.server.grpcAddress().getPort())
                .usePlaintext()
                .maxInboundMessageSize(256 << 20)
                .build();
    }

    static Stream<Path> goldens() {
        return TestData.goldens().stream();
    }

    /** A request carrying the golden's inputs as raw_input_contents. */
    static ModelInferRequest rawRequest(JsonNode golden, String id) {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder()
                .setModelName(golden.get("model").asText())
                .setModelVersion(golden.get("version").asText())
                .setId(id);
        for (JsonNode input : golden.get("inputs")) {
            request.addInputs(header(input));
            request.addRawInputContents(ByteString.copyFrom(GoldenTensors.bytes(input)));
        }
        return request.build();
    }

    private static ModelInferRequest.InferInputTensor.Builder header(JsonNode input) {
        ModelInferRequest.InferInputTensor.Builder tensor = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(input.get("name").asText())
                .setDatatype(input.get("datatype").asText());
        input.get("shape").forEach(d -> tensor.addShape(d.asLong()));
        return tensor;
    }

    /** The outputs of a reply as golden-style JSON, whether raw or typed. */
    static ArrayNode outputs(ModelInferResponse response) {
        ArrayNode out = TestData.JSON.createArrayNode();
        for (int i = 0; i < response.getOutputsCount(); i++) {
            ModelInferResponse.InferOutputTensor t = response.getOutputs(i);
            ObjectNode o = out.addObject();
            o.put("name", t.getName());
            o.put("datatype", t.getDatatype());
            ArrayNode shape = o.putArray("shape");
            t.getShapeList().forEach(d -> shape.add(d.intValue())); // the goldens hold ints
            if (response.getRawOutputContentsCount() > 0) {
                o.set("data", GoldenTensors.values(t.getDatatype(), response.getRawOutputContents(i).asReadOnlyByteBuffer()));
            } else {
                o.set("data", typedValues(t.getDatatype(), t.getContents()));
            }
        }
        return out;
    }

    private static ArrayNode typedValues(String type, InferTensorContents c) {
        ArrayNode data = TestData.JSON.createArrayNode();
        switch (type) {
            case "BOOL" -> c.getBoolContentsList().forEach(data::add);
            case "UINT8" -> c.getUintContentsList().forEach(data::add);
            case "INT8", "INT16", "INT32" -> c.getIntContentsList().forEach(data::add);
            case "INT64" -> c.getInt64ContentsList().forEach(data::add);
            case "FP32" -> c.getFp32ContentsList().forEach(data::add);
            case "FP64" -> c.getFp64ContentsList().forEach(data::add);
            default -> throw new IllegalArgumentException(type);
        }
        return data;
    }

    @Test
    void serverHealthAndMetadata() {
        assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        ServerMetadataResponse metadata = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertThat(metadata.getName()).isEqualTo("torchlight");
        assertThat(metadata.getExtensionsList()).contains("binary_tensor_data", "statistics");
    }

    @Test
    void modelReadyAndMetadata() {
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("mlp").build()).getReady()).isTrue();
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("mlp").setVersion("1").build()).getReady())
                .isTrue();

        ModelMetadataResponse metadata = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
        assertThat(metadata.getName()).isEqualTo("mlp");
        assertThat(metadata.getVersionsList()).containsExactly("1", "2");
        assertThat(metadata.getPlatform()).isEqualTo("pytorch_torchscript");
        assertThat(metadata.getInputs(0).getName()).isEqualTo("input");
        assertThat(metadata.getInputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(metadata.getInputs(0).getShapeList()).containsExactly(-1L, 64L);
        assertThat(metadata.getOutputs(0).getShapeList()).containsExactly(-1L, 2L);
    }

    @Test
    void modelConfigIsTritonsMessageForTritonsClients() {
        inference.ModelConfig config = stub.modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build())
                .getConfig();
        assertThat(config.getName()).isEqualTo("mlp");
        assertThat(config.getPlatform()).isEqualTo("pytorch_libtorch");
        assertThat(config.getBackend()).isEqualTo("pytorch");
        assertThat(config.getMaxBatchSize()).isEqualTo(64);
        assertThat(config.getInput(0).getName()).isEqualTo("input");
        assertThat(config.getInput(0).getDataType()).isEqualTo(DataType.TYPE_FP32);
        assertThat(config.getInput(0).getDimsList()).containsExactly(64L);
        assertThat(config.getOutput(0).getDimsList()).containsExactly(2L);
        assertThat(config.getInstanceGroup(0).getKind()).isEqualTo(ModelInstanceGroup.Kind.KIND_CPU);
        assertThat(config.getInstanceGroup(0).getCount()).isEqualTo(1);

        assertThat(stub.modelConfig(ModelConfigRequest.newBuilder().setName("dtypes16").build()).getConfig()
                .getInputList()).extracting(ModelInput::getDataType).contains(DataType.TYPE_BF16, DataType.TYPE_INT16);
        inference.ModelConfig ragged = stub.modelConfig(ModelConfigRequest.newBuilder().setName("ragged_bag").build())
                .getConfig();
        assertThat(ragged.getInput(0).getAllowRaggedBatch()).isTrue();
        assertThat(config.getInput(0).getAllowRaggedBatch()).isFalse();
        assertThat(ragged.getBatchInput(0).getKind())
                .isEqualTo(inference.BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO);
        assertThat(ragged.getBatchInput(0).getTargetNameList()).containsExactly("offsets");
        assertThat(ragged.getBatchInput(0).getDataType()).isEqualTo(DataType.TYPE_INT64);
        assertThat(ragged.getBatchInput(0).getSourceInputList()).containsExactly("ids");
        assertThatThrownBy(() -> stub.modelConfig(ModelConfigRequest.newBuilder().setName("nope").build()))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("NOT_FOUND");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void rawContentsMatchPyTorch(Path goldenFile) {
        JsonNode golden = TestData.read(goldenFile);
        ModelInferResponse response = stub.modelInfer(rawRequest(golden, "raw-" + goldenFile.getFileName()));

        assertThat(response.getModelName()).isEqualTo(golden.get("model").asText());
        assertThat(response.getModelVersion()).isEqualTo(golden.get("version").asText());
        assertThat(response.getId()).isEqualTo("raw-" + goldenFile.getFileName());
        assertThat(response.getRawOutputContentsCount()).isEqualTo(response.getOutputsCount());
        GoldenOutputsTest.assertOutputsEqual(outputs(response), golden.get("outputs"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void typedContentsMatchPyTorch(Path goldenFile) {
        JsonNode golden = TestData.read(goldenFile);
        ModelInferRequest raw = rawRequest(golden, "typed");
        boolean half = false;
        ModelInferRequest.Builder typed = raw.toBuilder().clearRawInputContents().clearInputs();
        for (JsonNode input : golden.get("inputs")) {
            String type = input.get("datatype").asText();
            half |= type.equals("FP16") || type.equals("BF16");
            typed.addInputs(header(input).setContents(contents(input)));
        }
        if (half) {
            // FP16 has no typed field in the protocol: it must travel raw, and the error says so.
            assertThatThrownBy(() -> stub.modelInfer(typed.build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).contains("raw_input_contents");
                    });
            return;
        }
        ModelInferResponse response = stub.modelInfer(typed.build());

        assertThat(response.getRawOutputContentsCount()).as("typed in, typed out").isZero();
        GoldenOutputsTest.assertOutputsEqual(outputs(response), golden.get("outputs"));
    }

    private static InferTensorContents.Builder contents(JsonNode input) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (JsonNode v : input.get("data")) {
            switch (input.get("datatype").asText()) {
                case "BOOL" -> c.addBoolContents(v.asBoolean());
                case "UINT8" -> c.addUintContents(v.asInt());
                case "INT8", "INT16", "INT32" -> c.addIntContents(v.asInt());
                case "INT64" -> c.addInt64Contents(v.asLong());
                case "FP32" -> c.addFp32Contents((float) v.asDouble());
                case "FP64" -> c.addFp64Contents(v.asDouble());
                default -> { } // FP16/BF16: left empty, the request is refused before it is read
            }
        }
        return c;
    }

    @Test
    void streamAnswersEveryRequestAndKeepsGoingAfterAnError() throws Exception {
        List<JsonNode> goldens = TestData.goldens().stream().map(TestData::read).toList();
        Map<String, ModelStreamInferResponse> answers = new ConcurrentHashMap<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        StreamObserver<ModelInferRequest> requests = GRPCInferenceServiceGrpc.newStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .modelStreamInfer(new StreamObserver<>() {
                    @Override
                    public void onNext(ModelStreamInferResponse value) {
                        answers.put(value.getInferResponse().getId(), value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        finished.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        finished.complete(null);
                    }
                });
        for (int i = 0; i < goldens.size(); i++) {
            requests.onNext(rawRequest(goldens.get(i), "g" + i));
        }
        requests.onNext(ModelInferRequest.newBuilder().setModelName("nope").setId("bad")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
                        .addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
                .build());
        requests.onNext(rawRequest(goldens.get(0), "after-error"));
        requests.onCompleted();
        finished.get(60, TimeUnit.SECONDS);

        assertThat(answers).hasSize(goldens.size() + 2);
        for (int i = 0; i < goldens.size(); i++) {
            ModelStreamInferResponse answer = answers.get("g" + i);
            assertThat(answer.getErrorMessage()).isEmpty();
            GoldenOutputsTest.assertOutputsEqual(outputs(answer.getInferResponse()), goldens.get(i).get("outputs"));
        }
        assertThat(answers.get("bad").getErrorMessage()).startsWith("NOT_FOUND: ").contains("nope");
        assertThat(answers.get("after-error").getErrorMessage()).isEmpty();
    }

    @Test
    void requestedOutputsOnly() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/two_io.json"));
        ModelInferRequest request = rawRequest(golden, "one").toBuilder()
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("prod"))
                .build();
        ModelInferResponse response = stub.modelInfer(request);
        assertThat(response.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                .containsExactly("prod");
        assertThat(response.getRawOutputContentsCount()).isEqualTo(1);
    }

    @Test
    void badRequestsAreInvalidArgumentWithTheReason() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        ModelInferRequest good = rawRequest(golden, "x");
        assertStatus(good.toBuilder().setRawInputContents(0, ByteString.copyFrom(new byte[12])).build(),
                Status.Code.INVALID_ARGUMENT, "needs 512 bytes, raw_input_contents[0] has 12");
        assertStatus(good.toBuilder().addRawInputContents(ByteString.EMPTY).build(),
                Status.Code.INVALID_ARGUMENT, "raw_input_contents has 2 entries for 1 inputs");
        assertStatus(good.toBuilder().setInputs(0, good.getInputs(0).toBuilder().setDatatype("FP8")).build(),
                Status.Code.INVALID_ARGUMENT, "unsupported datatype 'FP8'");
        assertStatus(good.toBuilder().setModelVersion("v1").build(),
                Status.Code.INVALID_ARGUMENT, "model version must be a non-negative integer, got 'v1'");
        assertStatus(good.toBuilder().putParameters("priority",
                        InferParameter.newBuilder().setStringParam("high").build()).build(),
                Status.Code.INVALID_ARGUMENT, "'parameters.priority' must be");
        assertStatus(good.toBuilder().addOutputs(
                        ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")).build(),
                Status.Code.INVALID_ARGUMENT, "model 'mlp' has no output 'nope'");
        assertStatus(good.toBuilder().setModelName("nope").build(), Status.Code.NOT_FOUND, "nope");
        assertStatus(good.toBuilder().setModelVersion("9").build(), Status.Code.NOT_FOUND, "9");
        assertThatThrownBy(() -> stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    static void assertStatus(ModelInferRequest request, Status.Code code, String message) {
        assertThatThrownBy(() -> stub.modelInfer(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }

    @Test
    void statisticsAndRepositoryIndex() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/cnn.json"));
        stub.modelInfer(rawRequest(golden, "stats"));

        ModelStatisticsResponse stats = stub.modelStatistics(ModelStatisticsRequest.newBuilder().setName("cnn").build());
        assertThat(stats.getModelStatsList()).hasSize(1);
        assertThat(stats.getModelStats(0).getName()).isEqualTo("cnn");
        assertThat(stats.getModelStats(0).getInferenceStats().getSuccess().getCount()).isPositive();
        assertThat(stub.modelStatistics(ModelStatisticsRequest.getDefaultInstance()).getModelStatsCount())
                .isGreaterThan(1);

        RepositoryIndexResponse index = stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
        assertThat(index.getModelsList()).extracting(RepositoryIndexResponse.ModelIndex::getName)
                .contains("cnn", "mlp", "dtypes");
        assertThat(index.getModelsList()).allSatisfy(m -> assertThat(m.getState()).isEqualTo("READY"));
    }

    @Test
    void healthReportsReadiness() {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(health.check(HealthCheckRequest.newBuilder().setService("mlp").build()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThatThrownBy(() -> health.check(HealthCheckRequest.newBuilder().setService("nope").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void reflectionListsTheInferenceService() throws Exception {
        List<String> services = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> out = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        value.getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        out.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        out.onCompleted();
        done.get(10, TimeUnit.SECONDS);
        assertThat(services).contains("inference.GRPCInferenceService", "grpc.health.v1.Health");
    }
}
