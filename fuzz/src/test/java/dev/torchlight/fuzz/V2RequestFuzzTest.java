package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.torchlight.api.ServingException;
import dev.torchlight.server.http.v2.V2RequestReader;
import dev.torchlight.server.inference.RequestControls;

/**
 * The v2 request reader (JSON header, then binary tensor data) under fuzzed bodies: every input is
 * read or refused with {@link ServingException.InvalidInput} and a message; nothing else may escape.
 * In {@code ./test.sh} the committed corpus runs (the resources beside this class); with
 * {@code JAZZER_FUZZ=1} Jazzer fuzzes it (docs/SECURITY.md).
 */
class V2RequestFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void readsOrRefusesWithAClearError(FuzzedDataProvider data) {
        byte[] body = data.consumeRemainingAsBytes();
        int jsonLength = body.length == 0 ? 0 : Math.floorMod(body[0], body.length + 1);
        try {
            V2RequestReader.read(body, jsonLength, RequestControls.NONE);
        } catch (ServingException.InvalidInput expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
