package dev.torchlight.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.inference.ServerMetadata;
import inference.InferBatchStatistics;
import inference.InferStatistics;
import inference.InferTensorContents;
import inference.ModelInferResponse;
import inference.ModelMetadataResponse;
import inference.ModelStatistics;
import inference.StatisticDuration;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Builds the protocol's replies from the core's types. Raw output contents wrap the engine's
 * output buffers (serialising them is the one copy, into the network buffer); typed contents are
 * appended element by element to the message's primitive lists, never boxed.
 */
final class GrpcResponses {
    private GrpcResponses() {}

    /**
     * @param raw whether to send raw_output_contents; FP16 and BF16 outputs force it, since they
     *     have no typed field
     */
    static ModelInferResponse infer(InferenceResponse response, boolean raw) {
        List<Tensor> outputs = response.outputs();
        String id = response.id();
        boolean useRaw = raw;
        for (Tensor output : outputs) {
            useRaw |= !hasTypedField(output.dataType());
        }
        ModelInferResponse.Builder reply = ModelInferResponse.newBuilder()
                .setModelName(response.model())
                .setModelVersion(Long.toString(response.version()));
        if (id != null) {
            reply.setId(id);
        }
        for (Tensor output : outputs) {
            ModelInferResponse.InferOutputTensor.Builder tensor = reply.addOutputsBuilder()
                    .setName(output.name())
                    .setDatatype(output.dataType().name());
            for (int d = 0; d < output.rank(); d++) {
                tensor.addShape(output.dim(d));
            }
            if (useRaw) {
                reply.addRawOutputContents(UnsafeByteOperations.unsafeWrap(output.data()));
            } else {
                tensor.setContents(typed(output));
            }
        }
        return reply.build();
    }

    static boolean hasTypedField(DataType type) {
        return type != DataType.FP16 && type != DataType.BF16;
    }

    private static InferTensorContents typed(Tensor tensor) {
        ByteBuffer data = tensor.data();
        int n = (int) tensor.elementCount();
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        switch (tensor.dataType()) {
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    c.addBoolContents(data.get(i) != 0);
                }
            }
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    c.addUintContents(Byte.toUnsignedInt(data.get(i)));
                }
            }
            case INT8 -> {
                for (int i = 0; i < n; i++) {
                    c.addIntContents(data.get(i));
                }
            }
            case INT16 -> {
                for (int i = 0; i < n; i++) {
                    c.addIntContents(data.getShort(i * 2));
                }
            }
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    c.addIntContents(data.getInt(i * 4));
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    c.addInt64Contents(data.getLong(i * 8));
                }
            }
            case FP32 -> {
                for (int i = 0; i < n; i++) {
                    c.addFp32Contents(data.getFloat(i * 4));
                }
            }
            case FP64 -> {
                for (int i = 0; i < n; i++) {
                    c.addFp64Contents(data.getDouble(i * 8));
                }
            }
            case FP16, BF16 -> throw new IllegalStateException("no typed field for " + tensor.dataType());
        }
        return c.build();
    }

    /** @param version the version asked for, or null for the model's default */
    static ModelMetadataResponse metadata(ServedModel model, Long version) {
        ModelConfig config = model.version(version).config();
        ModelMetadataResponse.Builder reply = ModelMetadataResponse.newBuilder()
                .setName(model.name())
                .setPlatform(ServerMetadata.platform(config));
        model.versionNumbers().forEach(v -> reply.addVersions(Long.toString(v)));
        if (config != null) {
            config.inputs().forEach(s -> reply.addInputs(spec(s, config.batched())));
            config.outputs().forEach(s -> reply.addOutputs(spec(s, config.batched())));
        }
        return reply.build();
    }

    private static ModelMetadataResponse.TensorMetadata spec(TensorSpec spec, boolean batched) {
        ModelMetadataResponse.TensorMetadata.Builder t = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(spec.name())
                .setDatatype(spec.dataType().name());
        if (batched) {
            t.addShape(-1);
        }
        for (long d : spec.shape()) {
            t.addShape(d);
        }
        return t.build();
    }

    /** The same figures as REST's statistics extension (see V2Statistics). */
    static ModelStatistics statistics(ServedVersion version) {
        ModelStats.Snapshot s = version.stats();
        ModelStatistics.Builder m = ModelStatistics.newBuilder()
                .setName(version.model())
                .setVersion(Long.toString(version.version()))
                .setLastInference(s.lastInferenceMillis())
                .setInferenceCount(s.inferenceCount())
                .setExecutionCount(s.executionCount())
                .setInferenceStats(InferStatistics.newBuilder()
                        .setSuccess(duration(s.successCount(), s.successNs()))
                        .setFail(duration(s.failCount(), s.failNs()))
                        .setQueue(duration(s.queueCount(), s.queueNs()))
                        .setComputeInput(duration(s.computeCount(), 0))
                        .setComputeInfer(duration(s.computeCount(), s.computeNs()))
                        .setComputeOutput(duration(s.computeCount(), 0)));
        for (ModelStats.BatchStat b : s.batches()) {
            m.addBatchStats(InferBatchStatistics.newBuilder()
                    .setBatchSize(b.batchSize())
                    .setComputeInput(duration(b.count(), 0))
                    .setComputeInfer(duration(b.count(), b.ns()))
                    .setComputeOutput(duration(b.count(), 0)));
        }
        return m.build();
    }

    private static StatisticDuration duration(long count, long ns) {
        return StatisticDuration.newBuilder().setCount(count).setNs(ns).build();
    }
}
