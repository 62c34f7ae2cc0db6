package dev.torchlight.bench.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * Finds where HTTP/1.1 responses begin and end in a byte stream, reading only what the load
 * generator needs: the status code and whether the connection stays open. Bodies are skipped
 * without being copied, and no header objects or strings are made, so a response costs the
 * client little more than the bytes it reads (Netty's full decoder was its largest cost).
 * Handles {@code Content-Length}, chunked and close-delimited bodies and interim (1xx) answers.
 */
final class ResponseParser {
    /** Longest status, header or chunk-size line accepted. */
    static final int MAX_LINE = 16 * 1024;

    private enum State { STATUS, HEADERS, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE }

    private static final byte[] CONTENT_LENGTH = bytes("content-length");
    private static final byte[] TRANSFER_ENCODING = bytes("transfer-encoding");
    private static final byte[] CONNECTION = bytes("connection");
    private static final byte[] RETRY_AFTER = bytes("retry-after");

    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private State state = State.STATUS;
    private int status;
    private boolean http10;
    private boolean keepAlive;
    private boolean chunked;
    private long contentLength;
    private long remaining;
    private int retryAfterSeconds = -1;

    /** Thrown for bytes that are not an HTTP/1.x response. */
    static final class BadResponseException extends Exception {
        private static final long serialVersionUID = 1L;

        BadResponseException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Consumes bytes until one response is complete or {@code in} is exhausted.
     *
     * @return true when a response ended; {@link #status()} and {@link #keepAlive()} describe it,
     *     and the bytes after it are still in {@code in}
     */
    boolean parse(ByteBuf in) throws BadResponseException {
        while (in.isReadable()) {
            switch (state) {
                case FIXED_BODY, CHUNK_DATA -> {
                    int skip = (int) Math.min(remaining, in.readableBytes());
                    in.skipBytes(skip);
                    remaining -= skip;
                    if (remaining == 0) {
                        if (state == State.FIXED_BODY) {
                            return complete();
                        }
                        state = State.CHUNK_END;
                    }
                }
                case UNTIL_CLOSE -> in.skipBytes(in.readableBytes());
                default -> {
                    if (readLine(in) && lineDone()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * The connection closed: true when that ends a response whose body runs until the close.
     */
    boolean endOfInput() {
        if (state == State.UNTIL_CLOSE) {
            complete();
            return true;
        }
        return false;
    }

    int status() {
        return status;
    }

    boolean keepAlive() {
        return keepAlive;
    }

    /** The response's {@code Retry-After} in seconds (the delay form); -1 when it has none. */
    int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** Appends to the current line up to LF; true when the line is complete (without CRLF). */
    private boolean readLine(ByteBuf in) throws BadResponseException {
        int start = in.readerIndex();
        int lf = in.forEachByte(start, in.readableBytes(), ByteProcessor.FIND_LF);
        int n = (lf == -1 ? in.writerIndex() : lf) - start;
        if (lineLength + n > MAX_LINE) {
            throw new BadResponseException("response line longer than " + MAX_LINE + " bytes");
        }
        in.readBytes(line, lineLength, n);
        lineLength += n;
        if (lf == -1) {
            return false;
        }
        in.skipBytes(1);
        if (lineLength > 0 && line[lineLength - 1] == '\r') {
            lineLength--;
        }
        return true;
    }

    /** Acts on a complete line; true when it completes a response. */
    private boolean lineDone() throws BadResponseException {
        int length = lineLength;
        lineLength = 0;
        switch (state) {
            case STATUS -> {
                if (length == 0) {
                    return false; // tolerated: a stray CRLF between responses
                }
                statusLine(length);
                state = State.HEADERS;
            }
            case HEADERS -> {
                if (length == 0) {
                    return headersDone();
                }
                header(length);
            }
            case CHUNK_SIZE -> {
                long size = chunkSize(length);
                if (size == 0) {
                    state = State.TRAILERS;
                } else {
                    remaining = size;
                    state = State.CHUNK_DATA;
                }
            }
            case CHUNK_END -> {
                if (length != 0) {
                    throw new BadResponseException("chunk data longer than its size");
                }
                state = State.CHUNK_SIZE;
            }
            case TRAILERS -> {
                if (length == 0) {
                    return complete();
                }
            }
            default -> throw new IllegalStateException(state.name());
        }
        return false;
    }

    private void statusLine(int length) throws BadResponseException {
        // "HTTP/1.1 200 OK": the version, one space, three digits.
        if (length < 12 || !startsWith("HTTP/1.") || line[8] != ' ') {
            throw new BadResponseException("not an HTTP/1.x status line");
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            if (line[i] < '0' || line[i] > '9') {
                throw new BadResponseException("bad status code");
            }
            code = code * 10 + (line[i] - '0');
        }
        status = code;
        http10 = line[7] == '0';
        keepAlive = !http10;
        chunked = false;
        contentLength = -1;
        retryAfterSeconds = -1;
    }

    private void header(int length) throws BadResponseException {
        int colon = 0;
        while (colon < length && line[colon] != ':') {
            colon++;
        }
        if (colon == length) {
            throw new BadResponseException("header line without a colon");
        }
        int from = colon + 1;
        int to = length;
        while (from < to && (line[from] == ' ' || line[from] == '\t')) {
            from++;
        }
        while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) {
            to--;
        }
        if (nameIs(CONTENT_LENGTH, colon)) {
            long value = 0;
            if (from == to) {
                throw new BadResponseException("empty Content-Length");
            }
            for (int i = from; i < to; i++) {
                if (line[i] < '0' || line[i] > '9' || value > Long.MAX_VALUE / 10 - 9) {
                    throw new BadResponseException("bad Content-Length");
                }
                value = value * 10 + (line[i] - '0');
            }
            contentLength = value;
        } else if (nameIs(TRANSFER_ENCODING, colon)) {
            chunked = valueContains(from, to, "chunked");
        } else if (nameIs(RETRY_AFTER, colon)) {
            // Seconds only; an HTTP date, or a value past a day, counts as none.
            int value = 0;
            for (int i = from; i < to && value >= 0; i++) {
                value = line[i] >= '0' && line[i] <= '9' && value < 86_400 ? value * 10 + (line[i] - '0') : -1;
            }
            retryAfterSeconds = from == to || value > 86_400 ? -1 : value;
        } else if (nameIs(CONNECTION, colon)) {
            if (valueContains(from, to, "close")) {
                keepAlive = false;
            } else if (valueContains(from, to, "keep-alive")) {
                keepAlive = true;
            }
        }
    }

    private boolean headersDone() {
        if (status >= 100 && status < 200) {
            state = State.STATUS; // interim answer, e.g. 100 Continue: the real one follows
            return false;
        }
        if (status == 204 || status == 304) {
            return complete();
        }
        if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength >= 0) {
            if (contentLength == 0) {
                return complete();
            }
            remaining = contentLength;
            state = State.FIXED_BODY;
        } else {
            keepAlive = false; // the body ends when the server closes
            state = State.UNTIL_CLOSE;
        }
        return false;
    }

    private long chunkSize(int length) throws BadResponseException {
        long size = 0;
        int digits = 0;
        for (int i = 0; i < length && line[i] != ';' && line[i] != ' '; i++, digits++) {
            int d = Character.digit(line[i], 16);
            if (d < 0 || size > (Long.MAX_VALUE >> 4)) {
                throw new BadResponseException("bad chunk size");
            }
            size = size * 16 + d;
        }
        if (digits == 0) {
            throw new BadResponseException("bad chunk size");
        }
        return size;
    }

    private boolean complete() {
        state = State.STATUS;
        return true;
    }

    private boolean startsWith(String prefix) {
        for (int i = 0; i < prefix.length(); i++) {
            if (line[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean nameIs(byte[] lowerName, int nameLength) {
        if (nameLength != lowerName.length) {
            return false;
        }
        for (int i = 0; i < nameLength; i++) {
            if ((line[i] | 0x20) != lowerName[i]) { // ASCII case fold; '-' folds to itself
                return false;
            }
        }
        return true;
    }

    private boolean valueContains(int from, int to, String lowerToken) {
        outer:
        for (int i = from; i + lowerToken.length() <= to; i++) {
            for (int j = 0; j < lowerToken.length(); j++) {
                if ((line[i + j] | 0x20) != lowerToken.charAt(j)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
