package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.http.HttpErrorMapper.HttpError;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class HttpErrorMapperTest {

    @Test
    void servingExceptionsMapToTheirStatus() {
        assertMapped(new ServingException.InvalidInput("bad"), 400, "bad", Map.of());
        assertMapped(new ServingException.NotFound("gone"), 404, "gone", Map.of());
        assertMapped(new ServingException.NotReady("loading"), 503, "loading", Map.of());
        assertMapped(new ServingException.Overloaded("busy"), 503, "busy", Map.of("retry-after", "1"));
        assertMapped(new ServingException.TimedOut("late"), 504, "late", Map.of());
        assertMapped(new ServingException.ResourceExhausted("big"), 413, "big", Map.of());
        assertMapped(new ServingException.Unauthorized("who", false), 401, "who", Map.of("www-authenticate", "Bearer"));
        assertMapped(new ServingException.Unauthorized("no", true), 403, "no", Map.of());
        assertMapped(new ServingException.Internal("engine failed", new IllegalStateException("secret")), 500,
                "engine failed", Map.of());
    }

    @Test
    void otherFailuresAreAnAnonymousInternalError() {
        assertMapped(new IllegalStateException("stack details"), 500, "internal error", Map.of());
        assertMapped(new OutOfMemoryError("heap"), 500, "internal error", Map.of());
    }

    @Test
    void completionWrappersAreUnwrapped() {
        assertMapped(new CompletionException(new ServingException.NotFound("m")), 404, "m", Map.of());
        assertMapped(new ExecutionException(new CompletionException(new ServingException.TimedOut("t"))), 504, "t",
                Map.of());
    }

    @Test
    void replyIsAJsonErrorBodyWithHeadersAndNoStackTrace() throws IOException {
        ByteBufAllocator alloc = UnpooledByteBufAllocator.DEFAULT;
        FullHttpResponse response = HttpErrorMapper.reply(new ServingException.Overloaded("queue \"full\""))
                .render(alloc);
        try {
            assertThat(response.status().code()).isEqualTo(503);
            assertThat(response.headers().get("Retry-After")).isEqualTo("1");
            assertThat(response.headers().get("Content-Type")).isEqualTo("application/json");
            assertThat(response.content().toString(StandardCharsets.UTF_8)).isEqualTo("{\"error\":\"queue \\\"full\\\"\"}");
        } finally {
            response.release();
        }
        FullHttpResponse internal = HttpErrorMapper.reply(new RuntimeException("boom at Foo.java:12")).render(alloc);
        try {
            assertThat(internal.content().toString(StandardCharsets.UTF_8)).isEqualTo("{\"error\":\"internal error\"}");
        } finally {
            internal.release();
        }
    }

    private static void assertMapped(Throwable t, int status, String message, Map<String, String> headers) {
        HttpError error = HttpErrorMapper.map(t);
        assertThat(error.status().code()).as(t.toString()).isEqualTo(status);
        assertThat(error.message()).isEqualTo(message);
        assertThat(error.headers()).isEqualTo(headers);
    }
}
