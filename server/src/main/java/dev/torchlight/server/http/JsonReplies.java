package dev.torchlight.server.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.server.http.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.OutputStream;

/** Builds JSON replies, streaming the body with a {@link JsonGenerator} straight into a pooled buffer. */
public final class JsonReplies {
    private JsonReplies() {}

    /** Writes one JSON value. */
    @FunctionalInterface
    public interface JsonBody {
        void write(JsonGenerator generator) throws IOException;
    }

    /** A reply whose body {@code body} writes. */
    public static HttpReply json(HttpResponseStatus status, JsonBody body) {
        return alloc -> {
            ByteBuf content = alloc.buffer();
            try {
                // ByteBufOutputStream is also a DataOutput: the cast picks the OutputStream overload.
                OutputStream out = new ByteBufOutputStream(content);
                try (JsonGenerator generator = Json.FACTORY.createGenerator(out)) {
                    body.write(generator);
                }
                FullHttpResponse response = HttpReply.response(status, content);
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
                return response;
            } catch (IOException | RuntimeException | Error e) {
                content.release();
                throw e;
            }
        };
    }

    /** {@code {"error": message}}. */
    public static HttpReply error(HttpResponseStatus status, String message) {
        return json(status, g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }
}
