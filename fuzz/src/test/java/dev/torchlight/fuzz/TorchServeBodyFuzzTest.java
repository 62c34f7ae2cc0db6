package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.http.torchserve.TorchServeItems;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * TorchServe's {@code /predictions} body readers (JSON with base64, multipart/form-data through
 * Netty's decoder, x-www-form-urlencoded, raw files) under fuzzed requests: every one is split into
 * items or refused with {@link ServingException.InvalidInput} and a message; nothing else may
 * escape.
 *
 * <p>An input is the Content-Type header on its first line (empty: no header), then the body, so
 * that the committed inputs read as the requests they stand for.
 */
class TorchServeBodyFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void splitsOrRefusesWithAClearError(byte[] input) {
        int newline = indexOf(input, (byte) '\n');
        String contentType = newline <= 0 ? null : header(Arrays.copyOf(input, newline));
        byte[] body = newline < 0 ? input : Arrays.copyOfRange(input, newline + 1, input.length);
        try {
            List<HandlerItem> items = TorchServeItems.extract(body, contentType);
            assertThat(items).doesNotContainNull();
        } catch (ServingException.InvalidInput expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /** A header value as Netty's decoder hands it over: ISO-8859-1, no trailing CR. */
    private static String header(byte[] line) {
        int end = line.length > 0 && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
        return new String(line, 0, end, StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
