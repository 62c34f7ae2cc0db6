package dev.torchlight.server.http.torchserve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.RequestHeaders;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.InferenceReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.http.json.AnswerJson;
import dev.torchlight.server.http.json.Json;
import dev.torchlight.server.http.json.JsonTensorReader;
import dev.torchlight.server.http.json.JsonTensorWriter;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.RequestControls;
import dev.torchlight.server.inference.Work;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * TorchServe's inference API: {@code GET /ping} and {@code POST /predictions/{m}[/{v}]}, a codec
 * over the {@link InferenceLayer}. For a model with a handler the body goes to it as sent (an image,
 * a form, base64 JSON) and the answer is the handler's, as TorchServe's. Otherwise the model needs
 * one input: the body is that input as a (nested) JSON array, its datatype the model's declared one
 * and its shape the nesting. For a batched model a body shaped like one item (the declared shape)
 * is sent as a batch of one and the answer loses that batch dimension again; a body with a leading
 * batch dimension is passed through as is. The answer is the first output as a nested array, or
 * {@code {name: nested array}} when the model has several outputs. The request's timeout and
 * priority come from the {@link RequestControls} headers.
 */
public final class TorchServeEndpoints {
    private final InferenceLayer inference;

    public TorchServeEndpoints(InferenceLayer inference) {
        this.inference = Objects.requireNonNull(inference, "inference");
    }

    /** {@code GET /ping}: 200 {@code {"status": "Healthy"}}, else 500 {@code {"status": "Unhealthy"}} as TorchServe. */
    public HttpReply ping() {
        boolean ready = inference.ready();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.INTERNAL_SERVER_ERROR, g -> {
            g.writeStartObject();
            g.writeStringField("status", ready ? "Healthy" : "Unhealthy");
            g.writeEndObject();
        });
    }

    /**
     * {@code POST /predictions/{m}[/{v}]}; a tensor body is parsed before this returns.
     *
     * @param version the version's public name (TorchServe's {@code 1.0}) or number, or null for the default
     * @param headers the request's timeout and priority, from its headers
     * @param contentType the request's Content-Type, or null
     * @param routing the request's headers, for the model's traffic split
     */
    public CompletableFuture<HttpReply> predict(String model, String version, byte[] body, RequestControls headers,
            String contentType, RequestHeaders routing) {
        return inference.infer(model, inference.versionNumber(model, version), routing, target -> {
            ModelConfig config = target.config();
            if (config == null) {
                throw new ServingException.NotReady("model '" + model + "' version " + target.version()
                        + " is not ready" + (target.error() != null ? ": " + target.error() : ""));
            }
            if (HandlerStage.handles(config)) {
                return new Work.Items<>(() -> TorchServeItems.extract(body, contentType), headers,
                        TorchServeEndpoints::answer);
            }
            return tensors(config, body, headers);
        });
    }

    private static Work<HttpReply> tensors(ModelConfig config, byte[] body, RequestControls headers) {
        if (config.inputs().size() != 1) {
            throw new ServingException.InvalidInput("/predictions needs a model with exactly one input; model '"
                    + config.name() + "' has " + config.inputs().size() + " "
                    + config.inputs().stream().map(TensorSpec::name).toList() + ": use POST /v2/models/"
                    + config.name() + "/infer");
        }
        TensorSpec spec = config.inputs().get(0);
        Tensor input = parse(spec, body);
        long[] shape = input.shape();
        boolean addedBatch = false;
        if (config.batched() && spec.accepts(shape, 0)) {
            input = new Tensor(spec.name(), spec.dataType(), prepend(1, shape), input.data());
            addedBatch = true;
        } else if (config.batched() ? !spec.accepts(shape, 1) : !spec.accepts(shape, 0)) {
            throw new ServingException.InvalidInput(expectedShapes(spec, config) + "; the body has shape "
                    + Shapes.format(shape));
        }
        boolean unbatch = addedBatch;
        return new Work.Tensors<>(new InferenceRequest(null, List.of(input), List.of(), headers.priorityOrDefault(),
                headers.timeoutMicrosOrDefault()), response -> new InferenceReply(response,
                        JsonReplies.json(HttpResponseStatus.OK, g -> writeAnswer(g, response, unbatch))));
    }

    /** A handler's answer: one item's as it is ({@code {"tabby": 0.41, ...}}, as TorchServe), several as an array. */
    private static HttpReply answer(HandlerAnswer answer) {
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            if (answer.items().size() == 1) {
                AnswerJson.write(g, answer.items().get(0));
            } else {
                AnswerJson.write(g, answer.items());
            }
        });
    }

    private static Tensor parse(TensorSpec spec, byte[] body) {
        try (JsonParser parser = Json.FACTORY.createParser(body)) {
            if (parser.nextToken() == null) {
                throw new ServingException.InvalidInput(
                        "the body is empty; expected a JSON array for input '" + spec.name() + "'");
            }
            Tensor tensor = JsonTensorReader.read(parser, spec.name(), spec.dataType(), null, body.length / 2 + 1);
            if (parser.nextToken() != null) {
                throw new ServingException.InvalidInput("unexpected content after the JSON array");
            }
            return tensor;
        } catch (IOException e) {
            throw new ServingException.InvalidInput(Json.describe(e));
        }
    }

    private static String expectedShapes(TensorSpec spec, ModelConfig config) {
        String item = Shapes.format(spec.shape());
        if (!config.batched()) {
            return "input '" + spec.name() + "' takes shape " + item + " (-1: any size)";
        }
        long[] batch = prepend(-1, spec.shape());
        return "input '" + spec.name() + "' takes one item of shape " + item + " or a batch of up to "
                + config.maxBatchSize() + " items, shape " + Shapes.format(batch).replaceFirst("-1", "n")
                + " (-1: any size)";
    }

    private static void writeAnswer(JsonGenerator g, InferenceResponse response, boolean unbatch) throws IOException {
        List<Tensor> outputs = response.outputs();
        if (outputs.size() == 1) {
            writeOutput(g, outputs.get(0), unbatch);
            return;
        }
        g.writeStartObject();
        for (Tensor output : outputs) {
            g.writeFieldName(output.name());
            writeOutput(g, output, unbatch);
        }
        g.writeEndObject();
    }

    private static void writeOutput(JsonGenerator g, Tensor output, boolean unbatch) throws IOException {
        // An output without the batch-of-one dimension (e.g. a scalar) is written whole.
        boolean drop = unbatch && output.rank() > 0 && output.dim(0) == 1;
        JsonTensorWriter.writeNested(g, output, drop ? 1 : 0);
    }

    private static long[] prepend(long first, long[] rest) {
        long[] shape = new long[rest.length + 1];
        shape[0] = first;
        System.arraycopy(rest, 0, shape, 1, rest.length);
        return shape;
    }
}
