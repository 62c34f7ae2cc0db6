package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.inference.RequestControls;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class RequestControlsTest {

    private static HttpHeaders headers(String... namesAndValues) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }

    private static void assertInvalid(HttpHeaders headers, String message) {
        assertThatThrownBy(() -> RequestControls.fromHeaders(headers::getAll))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining(message);
    }

    @Test
    void noHeadersSetNothing() {
        RequestControls controls = RequestControls.fromHeaders(headers("Content-Type", "application/json")::getAll);

        assertThat(controls).isEqualTo(RequestControls.NONE);
        assertThat(controls.priorityOrDefault()).isZero();
        assertThat(controls.timeoutMicrosOrDefault()).isZero();
    }

    @Test
    void timeoutIsMillisecondsTurnedIntoMicroseconds() {
        RequestControls controls = RequestControls.fromHeaders(headers("X-Request-Timeout-Ms", "250")::getAll);

        assertThat(controls.timeoutMicros()).isEqualTo(250_000);
        assertThat(controls.priority()).isEqualTo(RequestControls.UNSET);
        assertThat(controls.priorityOrDefault()).isZero();
    }

    @Test
    void priorityAndCaseInsensitiveNames() {
        RequestControls controls = RequestControls.fromHeaders(
                headers("x-request-priority", "2", "X-REQUEST-TIMEOUT-MS", "0")::getAll);

        assertThat(controls).isEqualTo(new RequestControls(2, 0));
    }

    @Test
    void badValuesAre400sNamingTheHeader() {
        assertInvalid(headers("X-Request-Timeout-Ms", "-5"),
                "X-Request-Timeout-Ms must be a non-negative integer number of milliseconds, got '-5'");
        assertInvalid(headers("X-Request-Timeout-Ms", "1.5"), "X-Request-Timeout-Ms must be");
        assertInvalid(headers("X-Request-Timeout-Ms", ""), "X-Request-Timeout-Ms must be");
        assertInvalid(headers("X-Request-Timeout-Ms", "10s"), "got '10s'");
        assertInvalid(headers("X-Request-Timeout-Ms", "9223372036855"), "X-Request-Timeout-Ms is too large: 9223372036855 ms");
        assertInvalid(headers("X-Request-Timeout-Ms", "12345678901234567890"), "X-Request-Timeout-Ms is too large");
        assertInvalid(headers("X-Request-Priority", "high"),
                "X-Request-Priority must be a priority level (a non-negative integer, 1 = highest), got 'high'");
        assertInvalid(headers("X-Request-Priority", "-1"), "X-Request-Priority must be");
        assertInvalid(headers("X-Request-Priority", "2147483648"), "X-Request-Priority is too large");
        assertInvalid(headers("X-Request-Priority", "1", "X-Request-Priority", "2"),
                "X-Request-Priority is sent more than once");
    }

    @Test
    void largestTimeoutWhoseNanosecondsFitALongIsAccepted() {
        assertThat(RequestControls.fromHeaders(headers("X-Request-Timeout-Ms", "9223372036854")::getAll).timeoutMicros())
                .isEqualTo(9_223_372_036_854_000L)
                .isLessThanOrEqualTo(RequestControls.MAX_TIMEOUT_MICROS);
        assertThat(RequestControls.fromHeaders(headers("X-Request-Priority", "2147483647")::getAll).priority())
                .isEqualTo(Integer.MAX_VALUE);
    }
}
