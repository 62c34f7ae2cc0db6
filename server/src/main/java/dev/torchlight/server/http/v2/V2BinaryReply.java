package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.Tensor;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A v2 inference reply with binary outputs: a JSON header (binary outputs carry
 * {@code parameters.binary_data_size} instead of {@code data}) followed by those outputs' raw
 * bytes in the header's order, with {@code Inference-Header-Content-Length} giving the header's
 * length. The raw bytes are the engine's output buffers wrapped, not copied: the socket write
 * is their one copy.
 */
final class V2BinaryReply {
    /** The binary extension's header: the length of the JSON part of a body, in bytes. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    private V2BinaryReply() {}

    static HttpReply of(InferenceResponse response, V2Request request) {
        String id = request.id();
        return alloc -> {
            ByteBuf header = alloc.buffer();
            List<Tensor> binary = new ArrayList<>();
            try {
                OutputStream out = new ByteBufOutputStream(header);
                try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
                    writeHeader(g, response, id, request, binary);
                }
            } catch (IOException | RuntimeException | Error e) {
                header.release();
                throw e;
            }
            int headerLength = header.readableBytes();
            CompositeByteBuf content = alloc.compositeBuffer(binary.size() + 1);
            content.addComponent(true, header);
            for (Tensor t : binary) {
                content.addComponent(true, Unpooled.wrappedBuffer(t.data()));
            }
            FullHttpResponse reply = HttpReply.response(HttpResponseStatus.OK, content);
            reply.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
            reply.headers().set(HEADER_LENGTH, headerLength);
            return reply;
        };
    }

    /** The JSON header: outputs asked for as binary name their byte size and are added to {@code binary}. */
    private static void writeHeader(JsonGenerator g, InferenceResponse response, String id,
            V2Request request, List<Tensor> binary) throws IOException {
        V2Endpoints.writeResponse(g, response, id, (gen, output) -> {
            if (request.binary(output.name())) {
                gen.writeObjectFieldStart("parameters");
                gen.writeNumberField(V2RequestReader.BINARY_DATA_SIZE, output.data().remaining());
                gen.writeEndObject();
                binary.add(output);
            } else {
                V2Endpoints.INLINE_DATA.write(gen, output);
            }
        });
    }
}
