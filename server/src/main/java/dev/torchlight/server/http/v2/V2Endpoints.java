package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.registry.RequestHeaders;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.InferenceReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.http.json.AnswerJson;
import dev.torchlight.server.http.json.Json;
import dev.torchlight.server.http.json.JsonTensorWriter;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.RequestControls;
import dev.torchlight.server.inference.ServerMetadata;
import dev.torchlight.server.inference.Work;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.StringWriter;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The KServe Open Inference Protocol v2 REST endpoints: server and model metadata, health, and
 * inference with JSON tensors, binary tensors, or BYTES items for a model's handler. A codec over
 * the {@link InferenceLayer}: failures are thrown (or complete the future) as
 * {@link ServingException}s for the front end's error mapping.
 */
public final class V2Endpoints {
    /** The binary tensor extension's request and reply header: the JSON part's length in bytes. */
    public static final String BINARY_HEADER_LENGTH = V2BinaryReply.HEADER_LENGTH;
    /** Name of the output that carries each item's answer as a JSON string, for a model with a handler. */
    public static final String HANDLER_OUTPUT = "predictions";

    private final InferenceLayer inference;
    private final String serverVersion;

    public V2Endpoints(InferenceLayer inference, String serverVersion) {
        this.inference = Objects.requireNonNull(inference, "inference");
        this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
    }

    /** {@code GET /v2}. */
    public HttpReply serverMetadata() {
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeStringField("name", ServerMetadata.NAME);
            g.writeStringField("version", serverVersion);
            g.writeArrayFieldStart("extensions");
            for (String extension : ServerMetadata.EXTENSIONS) {
                g.writeString(extension);
            }
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
        boolean ready = inference.ready();
        return flag(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, "ready", ready);
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/ready}: 200 when that version is ready, else 503. */
    public HttpReply modelReady(String model, Long version) {
        ServedVersion served = inference.version(model, version);
        boolean ready = served.ready();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
            g.writeStartObject();
            g.writeStringField("name", served.model());
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        });
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]}. */
    public HttpReply modelMetadata(String model, Long version) {
        ServedModel served = inference.model(model);
        ModelConfig config = served.version(version).config();
        return JsonReplies.json(HttpResponseStatus.OK, g -> writeMetadata(g, served, config));
    }

    /**
     * {@code POST /v2/models/{m}[/versions/{v}]/infer}, the body parsed before this returns. With the
     * binary tensor extension the reply is binary (see {@link V2BinaryReply}) when an output it holds
     * asks for binary data. BYTES inputs go to the model's handler, whose answers come back as the
     * BYTES output {@value #HANDLER_OUTPUT}, each element one item's answer as a JSON string.
     *
     * @param headers timeout and priority from the request headers, used where the body's
     *     parameters do not set them
     * @param headerLength the {@code Inference-Header-Content-Length} header, or null when the
     *     whole body is JSON
     * @param routing the request's headers, for the model's traffic split
     */
    public CompletableFuture<HttpReply> infer(String model, Long version, byte[] body, RequestControls headers,
            String headerLength, RequestHeaders routing) {
        int jsonLength = headerLength == null ? body.length : jsonLength(headerLength, body.length);
        return inference.infer(model, version, routing, target -> {
            V2Request request = V2RequestReader.read(body, jsonLength, headers);
            if (request.sendsItems()) {
                return new Work.Items<>(request::items, request.controls(),
                        answer -> JsonReplies.json(HttpResponseStatus.OK, g -> writeAnswer(g, answer, request.id())));
            }
            return new Work.Tensors<>(request.inference(), response -> new InferenceReply(response,
                    request.anyBinary(response.outputs()) ? V2BinaryReply.of(response, request)
                            : JsonReplies.json(HttpResponseStatus.OK, g -> writeResponse(g, response, request.id()))));
        });
    }

    /** Whether {@code text} is all decimal digits (a loop: this runs for every binary request). */
    private static boolean digits(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** The header's value as the JSON part's length: a decimal integer from 0 to the body's length. */
    static int jsonLength(String header, int bodyLength) {
        String value = header.strip();
        if (value.isEmpty() || value.length() > 10 || !digits(value)) {
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

    static void writeResponse(JsonGenerator g, InferenceResponse response, String id) throws IOException {
        writeResponse(g, response, id, INLINE_DATA);
    }

    /** The v2 response object, each output's data written by {@code data}. */
    static void writeResponse(JsonGenerator g, InferenceResponse response, String id, OutputData data)
            throws IOException {
        writeHead(g, response.model(), response.version(), id);
        for (Tensor output : response.outputs()) {
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

    /** A handler's answers: one BYTES output, each element an item's answer as a JSON string. */
    private static void writeAnswer(JsonGenerator g, HandlerAnswer answer, String id) throws IOException {
        writeHead(g, answer.model(), answer.version(), id);
        g.writeStartObject();
        g.writeStringField("name", HANDLER_OUTPUT);
        g.writeStringField("datatype", "BYTES");
        writeShape(g, new long[] {answer.items().size()});
        g.writeArrayFieldStart("data");
        for (Object item : answer.items()) {
            StringWriter text = new StringWriter();
            try (JsonGenerator inner = Json.FACTORY.createGenerator(text)) {
                AnswerJson.write(inner, item);
            }
            g.writeString(text.toString());
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Opens the response object up to its {@code outputs} array. */
    private static void writeHead(JsonGenerator g, String model, long version, String id) throws IOException {
        g.writeStartObject();
        g.writeStringField("model_name", model);
        g.writeStringField("model_version", Long.toString(version));
        if (id != null) {
            g.writeStringField("id", id);
        }
        g.writeArrayFieldStart("outputs");
    }

    private static void writeMetadata(JsonGenerator g, ServedModel model, ModelConfig config) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", model.name());
        g.writeArrayFieldStart("versions");
        for (long v : model.versionNumbers()) {
            g.writeString(Long.toString(v));
        }
        g.writeEndArray();
        g.writeStringField("platform", ServerMetadata.platform(config));
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
