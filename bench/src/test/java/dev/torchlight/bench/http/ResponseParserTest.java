package dev.torchlight.bench.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseParserTest {

    /** A response seen as (status, keep-alive). */
    private record Seen(int status, boolean keepAlive) {}

    @Test
    void aContentLengthResponseEndsAfterItsBodyWhereverTheBytesAreSplit() throws Exception {
        String wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 13\r\n\r\n{\"live\":true}"
                + "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nRetry-After: 1\r\n\r\n{}";
        for (int split = 0; split <= wire.length(); split++) {
            assertThat(parse(wire.substring(0, split), wire.substring(split)))
                    .as("split at %d", split)
                    .containsExactly(new Seen(200, true), new Seen(503, true));
        }
    }

    @Test
    void retryAfterInSecondsIsReadAndForgottenByTheNextResponse() throws Exception {
        ResponseParser parser = new ResponseParser();
        assertThat(parser.parse(buf("HTTP/1.1 503 Busy\r\nRetry-After:  7 \r\nContent-Length: 0\r\n\r\n"))).isTrue();
        assertThat(parser.retryAfterSeconds()).isEqualTo(7);
        assertThat(parser.parse(buf("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))).isTrue();
        assertThat(parser.retryAfterSeconds()).isEqualTo(-1);
        for (String value : List.of("Wed, 21 Oct 2015 07:28:00 GMT", "", "99999999999", "-3")) {
            assertThat(parser.parse(buf("HTTP/1.1 429 Slow\r\nRetry-After: " + value + "\r\nContent-Length: 0\r\n\r\n")))
                    .isTrue();
            assertThat(parser.retryAfterSeconds()).as(value).isEqualTo(-1);
        }
    }

    @Test
    void chunkedBodiesAndTrailersAreSkippedWhereverTheBytesAreSplit() throws Exception {
        String wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
                + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        for (int split = 0; split <= wire.length(); split++) {
            assertThat(parse(wire.substring(0, split), wire.substring(split)))
                    .as("split at %d", split)
                    .containsExactly(new Seen(200, true), new Seen(404, true));
        }
    }

    @Test
    void connectionHeadersAndVersionDecideKeepAlive() throws Exception {
        assertThat(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
                .containsExactly(new Seen(200, false));
        assertThat(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).containsExactly(new Seen(200, false));
        assertThat(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"))
                .containsExactly(new Seen(200, true));
    }

    @Test
    void interimAnswersAreSkippedAndNoContentHasNoBody() throws Exception {
        assertThat(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"))
                .containsExactly(new Seen(204, true), new Seen(304, true));
    }

    @Test
    void aBodyWithoutLengthRunsUntilTheClose() throws Exception {
        ResponseParser parser = new ResponseParser();
        assertThat(parser.parse(buf("HTTP/1.1 200 OK\r\n\r\nsome body"))).isFalse();
        assertThat(parser.parse(buf(" and more"))).isFalse();
        assertThat(parser.endOfInput()).isTrue();
        assertThat(parser.status()).isEqualTo(200);
        assertThat(parser.keepAlive()).isFalse();
        // A close in the middle of a delimited response ends nothing.
        ResponseParser cut = new ResponseParser();
        assertThat(cut.parse(buf("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))).isFalse();
        assertThat(cut.endOfInput()).isFalse();
    }

    @Test
    void whatIsNotHttpIsRefused() {
        assertThatThrownBy(() -> parse("SSH-2.0-OpenSSH\r\n")).isInstanceOf(ResponseParser.BadResponseException.class);
        assertThatThrownBy(() -> parse("HTTP/1.1 2x0 OK\r\n")).hasMessageContaining("status");
        assertThatThrownBy(() -> parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"))
                .hasMessageContaining("Content-Length");
        assertThatThrownBy(() -> parse("HTTP/1.1 200 OK\r\nno colon\r\n\r\n")).hasMessageContaining("colon");
        assertThatThrownBy(() -> parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
                .hasMessageContaining("chunk size");
        assertThatThrownBy(() -> parse("HTTP/1.1 200 OK\r\nX: " + "a".repeat(ResponseParser.MAX_LINE)))
                .hasMessageContaining("longer than");
    }

    private static List<Seen> parse(String... pieces) throws ResponseParser.BadResponseException {
        ResponseParser parser = new ResponseParser();
        List<Seen> seen = new ArrayList<>();
        for (String piece : pieces) {
            ByteBuf in = buf(piece);
            while (in.isReadable()) {
                if (!parser.parse(in)) {
                    break;
                }
                seen.add(new Seen(parser.status(), parser.keepAlive()));
            }
            assertThat(in.isReadable()).isFalse();
        }
        return seen;
    }

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }
}
