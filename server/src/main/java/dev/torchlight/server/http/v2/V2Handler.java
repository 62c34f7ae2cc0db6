package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelVersionInfo;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.InferenceReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.http.RequestControls;
import dev.torchlight.server.http.handler.HandlerEndpoints;
import dev.torchlight.server.http.handler.V2BytesRequest;
import dev.torchlight.server.http.json.JsonTensorWriter;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The KServe Open Inference Protocol v2 REST endpoints: server and model metadata, health, and
 * inference with JSON tensors. Failures are thrown (or complete the future) as
 * {@link ServingException}s for the front end's error mapping.
 */
public final class V2Handler {
    /** The v2 platform name for TorchScript models, reported for config platform {@code torchscript}. */
    public static final String TORCHSCRIPT_PLATFORM = "pytorch_torchscript";
    /** The binary tensor extension's request and reply header: the JSON part's length in bytes. */
    public static final String BINARY_HEADER_LENGTH = V2BinaryReply.HEADER_LENGTH;

    private final ModelService service;
    private final String serverVersion;
    /** Serves BYTES inputs of models with a handler; null when the server has no handler stage. */
    private final HandlerEndpoints handlers;

    public V2Handler(ModelService service, String serverVersion) {
        this(service, serverVersion, null);
    }

    /** @param handlers serves BYTES requests to models with a handler; null for none */
    public V2Handler(ModelService service, String serverVersion, HandlerEndpoints handlers) {
        this.service = Objects.requireNonNull(service, "service");
        this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
        this.handlers = handlers;
    }

    /** {@code GET /v2}. */
    public HttpReply serverMetadata() {
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeStringField("name", "torchlight");
            g.writeStringField("version", serverVersion);
            g.writeArrayFieldStart("extensions");
            g.writeString("binary_tensor_data");
            g.writeString("statistics");
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** {@code GET /v2/health/live}: answering at all means live. */
    public HttpReply live() {
        return flag(HttpResponseStatus.OK, "live", true);
    }

    /** {@code GET /v2/health/ready}: 200 when every model is ready, else 503. */
    public HttpReply ready() {
        boolean ready = service.ready();
        return flag(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, "ready", ready);
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/ready}: 200 when that version is ready, else 503. */
    public HttpReply modelReady(String model, Long version) {
        ModelVersionInfo info = service.describe(model, version);
        boolean ready = info.ready();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
            g.writeStartObject();
            g.writeStringField("name", info.name());
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        });
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]}. */
    public HttpReply modelMetadata(String model, Long version) {
        ModelVersionInfo info = service.describe(model, version);
        return JsonReplies.json(HttpResponseStatus.OK, g -> writeMetadata(g, info));
    }

    /** {@code POST /v2/models/{m}[/versions/{v}]/infer} without header controls. */
    public CompletableFuture<HttpReply> infer(String model, Long version, byte[] body) {
        return infer(model, version, body, RequestControls.NONE);
    }

    /**
     * {@code POST /v2/models/{m}[/versions/{v}]/infer}; the body is parsed before this returns.
     *
     * @param headers timeout and priority from the request headers, used where the body's
     *     parameters do not set them
     */
    public CompletableFuture<HttpReply> infer(String model, Long version, byte[] body, RequestControls headers) {
        return infer(model, version, body, headers, null);
    }

    /**
     * {@code POST /v2/models/{m}[/versions/{v}]/infer}, with the binary tensor extension: the
     * reply is binary (see {@link V2BinaryReply}) when an output it holds asks for binary data.
     *
     * @param headerLength the {@code Inference-Header-Content-Length} header, or null when the
     *     whole body is JSON
     */
    public CompletableFuture<HttpReply> infer(String model, Long version, byte[] body, RequestControls headers,
            String headerLength) {
        int jsonLength = headerLength == null ? body.length : jsonLength(headerLength, body.length);
        V2RequestReader.V2Request parsed;
        try {
            parsed = V2RequestReader.read(body, jsonLength, model, version, headers);
        } catch (ServingException.InvalidInput e) {
            // BYTES inputs (images) are not tensors: a model with a handler takes them; tensors pay nothing for this.
            if (handlers == null || headerLength != null
                    || !dev.torchlight.handler.HandlerStage.handles(service.describe(model, version).config())) {
                throw e;
            }
            V2BytesRequest bytes = V2BytesRequest.readOrNull(body);
            if (bytes == null) {
                throw e;
            }
            return handlers.infer(model, version, bytes, headers);
        }
        InferenceRequest request = parsed.request();
        if (!request.outputs().isEmpty()) {
            service.checkRequestedOutputs(request);
        }
        return service.infer(request).thenApply(response -> {
            List<String> names = response.outputs().stream().map(Tensor::name)
                    .filter(n -> request.outputs().isEmpty() || request.outputs().contains(n)).toList();
            HttpReply reply = parsed.anyBinary(names) ? V2BinaryReply.of(response, parsed)
                    : JsonReplies.json(HttpResponseStatus.OK,
                            g -> writeResponse(g, response, request.id(), request.outputs()));
            return new InferenceReply(response, reply);
        });
    }

    /** The header's value as the JSON part's length: a decimal integer from 0 to the body's length. */
    static int jsonLength(String header, int bodyLength) {
        String value = header.strip();
        if (value.isEmpty() || value.length() > 10 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ServingException.InvalidInput(V2BinaryReply.HEADER_LENGTH
                    + " must be the JSON header's length in bytes (a non-negative integer), got '"
                    + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'");
        }
        long length = Long.parseLong(value);
        if (length > bodyLength) {
            throw new ServingException.InvalidInput(V2BinaryReply.HEADER_LENGTH + " is " + length
                    + ", but the body has only " + bodyLength + " bytes");
        }
        return (int) length;
    }

    /** Writes one output's data into its JSON object: inline elements, or a reference to bytes after it. */
    @FunctionalInterface
    interface OutputData {
        void write(JsonGenerator g, Tensor output) throws IOException;
    }

    /** The elements inline, as {@code "data": [...]}. */
    static final OutputData INLINE_DATA = (g, output) -> {
        g.writeFieldName("data");
        JsonTensorWriter.writeFlat(g, output);
    };

    static void writeResponse(JsonGenerator g, InferenceResponse response, String id, List<String> requested)
            throws IOException {
        writeResponse(g, response, id, requested, INLINE_DATA);
    }

    /** The v2 response object, each requested output's data written by {@code data}. */
    static void writeResponse(JsonGenerator g, InferenceResponse response, String id, List<String> requested,
            OutputData data) throws IOException {
        g.writeStartObject();
        g.writeStringField("model_name", response.model());
        g.writeStringField("model_version", Long.toString(response.version()));
        if (id != null) {
            g.writeStringField("id", id);
        }
        g.writeArrayFieldStart("outputs");
        for (Tensor output : response.outputs()) {
            if (!requested.isEmpty() && !requested.contains(output.name())) {
                continue;
            }
            g.writeStartObject();
            g.writeStringField("name", output.name());
            g.writeStringField("datatype", output.dataType().name());
            writeShape(g, output.shape());
            data.write(g, output);
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    static void writeMetadata(JsonGenerator g, ModelVersionInfo info) throws IOException {
        ModelConfig config = info.config();
        g.writeStartObject();
        g.writeStringField("name", info.name());
        g.writeArrayFieldStart("versions");
        for (long v : info.versions()) {
            g.writeString(Long.toString(v));
        }
        g.writeEndArray();
        g.writeStringField("platform", config == null ? TORCHSCRIPT_PLATFORM : platform(config.platform()));
        g.writeArrayFieldStart("inputs");
        if (config != null) {
            writeSpecs(g, config.inputs(), config.batched());
        }
        g.writeEndArray();
        g.writeArrayFieldStart("outputs");
        if (config != null) {
            writeSpecs(g, config.outputs(), config.batched());
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Config platform {@code torchscript} is reported as v2's {@value #TORCHSCRIPT_PLATFORM}; others as written. */
    static String platform(String configured) {
        return "torchscript".equals(configured) ? TORCHSCRIPT_PLATFORM : configured;
    }

    private static void writeSpecs(JsonGenerator g, List<TensorSpec> specs, boolean batched) throws IOException {
        for (TensorSpec spec : specs) {
            g.writeStartObject();
            g.writeStringField("name", spec.name());
            g.writeStringField("datatype", spec.dataType().name());
            long[] shape = spec.shape();
            g.writeArrayFieldStart("shape");
            if (batched) {
                g.writeNumber(-1);
            }
            for (long d : shape) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    private static void writeShape(JsonGenerator g, long[] shape) throws IOException {
        g.writeArrayFieldStart("shape");
        for (long d : shape) {
            g.writeNumber(d);
        }
        g.writeEndArray();
    }

    private static HttpReply flag(HttpResponseStatus status, String field, boolean value) {
        return JsonReplies.json(status, g -> {
            g.writeStartObject();
            g.writeBooleanField(field, value);
            g.writeEndObject();
        });
    }
}
