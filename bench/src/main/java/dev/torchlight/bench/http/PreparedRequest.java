package dev.torchlight.bench.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One HTTP/1.1 request encoded to bytes once, before the run: request line, headers and body in
 * one direct buffer. Sending writes a retained duplicate of it, so the hot path does no encoding,
 * copying or header work at all.
 */
public final class PreparedRequest implements AutoCloseable {
    private final ByteBuf bytes;
    private final String description;

    private PreparedRequest(ByteBuf bytes, String description) {
        this.bytes = bytes;
        this.description = description;
    }

    /**
     * Encodes a request.
     *
     * @param target the server (for the {@code Host} header and the path prefix)
     * @param method {@code GET} or {@code POST}
     * @param path path below the target's base, starting with {@code /}
     * @param headers extra headers (e.g. {@code Content-Type}); {@code Content-Length} is added
     *     when there is a body
     * @param body the body, or null for none
     */
    public static PreparedRequest of(
            HttpTarget target, String method, String path, Map<String, String> headers, byte[] body) {
        StringBuilder head = new StringBuilder(256)
                .append(method).append(' ').append(target.path(path)).append(" HTTP/1.1\r\n")
                .append("Host: ").append(target.hostHeader()).append("\r\n")
                .append("User-Agent: torchlight-bench\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        int bodyLength = body == null ? 0 : body.length;
        ByteBuf buf = Unpooled.directBuffer(headBytes.length + bodyLength);
        buf.writeBytes(headBytes);
        if (body != null) {
            buf.writeBytes(body);
        }
        return new PreparedRequest(buf, method + " " + target.path(path));
    }

    /** A buffer to write: a retained view of the encoded bytes, released by the write. */
    ByteBuf retainedBytes() {
        return bytes.retainedDuplicate();
    }

    /** Encoded size in bytes, headers included. */
    public int size() {
        return bytes.readableBytes();
    }

    /** The encoded request, for tests and diagnostics. */
    public String asString() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (bytes.refCnt() > 0) {
            bytes.release();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
