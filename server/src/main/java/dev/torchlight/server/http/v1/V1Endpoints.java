package dev.torchlight.server.http.v1;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.registry.RequestHeaders;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.InferenceReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.http.json.Json;
import dev.torchlight.server.http.json.JsonTensorReader;
import dev.torchlight.server.http.json.JsonTensorWriter;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.RequestControls;
import dev.torchlight.server.inference.Work;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * KServe's v1 protocol, for its v1 clients: {@code GET /v1/models}, {@code GET /v1/models/{m}}
 * (readiness) and {@code POST /v1/models/{m}:predict} with {@code {"instances": [...]}} answering
 * {@code {"predictions": [...]}}. It serves models with one input: each instance is one row of it
 * (the batch dimension is the list of instances; a model without one takes exactly one instance).
 * Each prediction is the row of the single output, or an object of every output's row by name.
 * Always the model's default version, as v1 has none.
 */
public final class V1Endpoints {
    /** The path suffix of a prediction, after the model's name. */
    public static final String PREDICT = ":predict";

    private final InferenceLayer inference;

    public V1Endpoints(InferenceLayer inference) {
        this.inference = Objects.requireNonNull(inference, "inference");
    }

    /** {@code GET /v1/models}: {@code {"models": [names]}}. */
    public HttpReply models() {
        List<ServedModel> models = inference.models();
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("models");
            for (ServedModel m : models) {
                g.writeString(m.name());
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** {@code GET /v1/models/{m}}: 200 {@code {"name": m, "ready": true}} when ready, else 503. */
    public HttpReply model(String model) {
        ServedVersion served = inference.version(model, null);
        boolean ready = served.ready();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
            g.writeStartObject();
            g.writeStringField("name", model);
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        });
    }

    /**
     * {@code POST /v1/models/{m}:predict}; the body is parsed before this returns.
     *
     * @param routing the request's headers, for the model's traffic split
     */
    public CompletableFuture<HttpReply> predict(String model, byte[] body, RequestControls headers,
            RequestHeaders routing) {
        return inference.infer(model, null, routing, target -> {
            ModelConfig config = target.config();
            if (config == null) {
                throw new ServingException.NotReady("model '" + model + "' is not ready"
                        + (target.error() != null ? ": " + target.error() : ""));
            }
            if (config.inputs().size() != 1) {
                throw new ServingException.InvalidInput("the v1 protocol serves models with one input; model '"
                        + model + "' has " + config.inputs().size() + " " + config.inputs().stream()
                        .map(TensorSpec::name).toList() + ": use POST /v2/models/" + model + "/infer");
            }
            TensorSpec spec = config.inputs().get(0);
            Tensor input = instances(spec, config, body);
            boolean batched = config.batched();
            return new Work.Tensors<>(new InferenceRequest(null, List.of(input), List.of(), headers.priorityOrDefault(),
                    headers.timeoutMicrosOrDefault()), response -> new InferenceReply(response,
                    JsonReplies.json(HttpResponseStatus.OK, g -> writePredictions(g, response, batched))));
        });
    }

    /** The {@code instances} of the body as the input tensor, its rows the batch. */
    private static Tensor instances(TensorSpec spec, ModelConfig config, byte[] body) {
        Tensor rows = null;
        try (JsonParser parser = Json.FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new ServingException.InvalidInput("expected a JSON object {\"instances\": [...]}");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                if (field.equals("instances")) {
                    if (parser.currentToken() != JsonToken.START_ARRAY) {
                        throw new ServingException.InvalidInput("'instances' must be a list of rows of input '"
                                + spec.name() + "'");
                    }
                    rows = JsonTensorReader.read(parser, spec.name(), spec.dataType(), null, body.length / 2 + 1);
                } else {
                    parser.skipChildren(); // e.g. "parameters", which nothing here reads
                }
            }
        } catch (IOException e) {
            throw new ServingException.InvalidInput(Json.describe(e));
        }
        if (rows == null) {
            throw new ServingException.InvalidInput("the body has no 'instances'; expected {\"instances\": [...]}");
        }
        long[] shape = rows.shape();
        if (shape.length == 0 || shape[0] == 0) {
            throw new ServingException.InvalidInput("'instances' is empty; send at least one row of input '"
                    + spec.name() + "'");
        }
        if (config.batched()) {
            if (!spec.accepts(shape, 1)) {
                throw new ServingException.InvalidInput("each instance must be one row of input '" + spec.name()
                        + "', shape " + Shapes.format(spec.shape()) + " (-1: any size); the instances have shape "
                        + Shapes.format(Arrays.copyOfRange(shape, 1, shape.length)));
            }
            return rows;
        }
        long[] whole = Arrays.copyOfRange(shape, 1, shape.length);
        if (shape[0] != 1 || !spec.accepts(whole, 0)) {
            throw new ServingException.InvalidInput("model '" + config.name() + "' has no batch dimension: send one"
                    + " instance, input '" + spec.name() + "' of shape " + Shapes.format(spec.shape())
                    + "; got " + shape[0] + " of shape " + Shapes.format(whole));
        }
        return new Tensor(spec.name(), spec.dataType(), whole, rows.data());
    }

    /** {@code {"predictions": [...]}}: one per row, the single output's row or every output's by name. */
    private static void writePredictions(JsonGenerator g, InferenceResponse response, boolean batched)
            throws IOException {
        List<Tensor> outputs = response.outputs();
        long rows = batched ? outputs.get(0).dim(0) : 1;
        g.writeStartObject();
        g.writeArrayFieldStart("predictions");
        for (long r = 0; r < rows; r++) {
            if (outputs.size() == 1) {
                writeRow(g, outputs.get(0), r, batched);
                continue;
            }
            g.writeStartObject();
            for (Tensor output : outputs) {
                g.writeFieldName(output.name());
                writeRow(g, output, r, batched);
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Row {@code r} of a batched output, nested as its shape; a model without batch writes it whole. */
    private static void writeRow(JsonGenerator g, Tensor output, long r, boolean batched) throws IOException {
        if (!batched) {
            JsonTensorWriter.writeNested(g, output, 0);
            return;
        }
        long[] shape = output.shape();
        long rows = shape[0];
        ByteBuffer data = output.data();
        int rowBytes = (int) (data.remaining() / rows);
        ByteBuffer row = data.slice(data.position() + (int) r * rowBytes, rowBytes).order(data.order());
        long[] rowShape = shape.clone();
        rowShape[0] = 1;
        JsonTensorWriter.writeNested(g, new Tensor(output.name(), output.dataType(), rowShape, row), 1);
    }
}
