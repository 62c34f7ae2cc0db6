package dev.torchlight.server.http.handler;

import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.http.RequestControls;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.StringWriter;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The TorchServe and v2 inference endpoints for models with a handler: hand the raw body to the
 * {@link HandlerStage} (which splits it into items on its own threads) and write its answer.
 */
public final class HandlerEndpoints {
    /** Name of the v2 output that carries each item's answer as a JSON string. */
    public static final String V2_OUTPUT = "predictions";

    private final HandlerStage stage;

    public HandlerEndpoints(HandlerStage stage) {
        this.stage = Objects.requireNonNull(stage, "stage");
    }

    /**
     * {@code POST /predictions/{m}[/{v}]}: the answer for one item is written as it is
     * ({@code {"tabby": 0.41, ...}}, as TorchServe), for several items as a JSON array of them.
     */
    public CompletableFuture<HttpReply> predict(String model, Long version, byte[] body, String contentType,
            RequestControls controls) {
        return stage.submit(model, version, controls.priorityOrDefault(), controls.timeoutMicrosOrDefault(),
                        () -> TorchServeItems.extract(body, contentType))
                .thenApply(answer -> JsonReplies.json(HttpResponseStatus.OK, g -> {
                    if (answer.items().size() == 1) {
                        AnswerJson.write(g, answer.items().get(0));
                    } else {
                        AnswerJson.write(g, answer.items());
                    }
                }));
    }

    /**
     * {@code POST /v2/models/{m}[/versions/{v}]/infer} with BYTES inputs: one BYTES output
     * {@value #V2_OUTPUT} of shape [items], each element the item's answer as a JSON string.
     */
    public CompletableFuture<HttpReply> infer(String model, Long version, V2BytesRequest request,
            RequestControls controls) {
        return stage.submit(model, version, controls.priorityOrDefault(), controls.timeoutMicrosOrDefault(),
                        request::items)
                .thenApply(answer -> JsonReplies.json(HttpResponseStatus.OK, g -> writeV2(g, answer, request.id())));
    }

    private static void writeV2(com.fasterxml.jackson.core.JsonGenerator g, HandlerAnswer answer, String id)
            throws java.io.IOException {
        g.writeStartObject();
        g.writeStringField("model_name", answer.model());
        g.writeStringField("model_version", Long.toString(answer.version()));
        if (id != null) {
            g.writeStringField("id", id);
        }
        g.writeArrayFieldStart("outputs");
        g.writeStartObject();
        g.writeStringField("name", V2_OUTPUT);
        g.writeStringField("datatype", "BYTES");
        g.writeArrayFieldStart("shape");
        g.writeNumber(answer.items().size());
        g.writeEndArray();
        g.writeArrayFieldStart("data");
        for (Object item : answer.items()) {
            StringWriter text = new StringWriter();
            try (var inner = dev.torchlight.server.http.json.Json.FACTORY.createGenerator(text)) {
                AnswerJson.write(inner, item);
            }
            g.writeString(text.toString());
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndArray();
        g.writeEndObject();
    }
}
