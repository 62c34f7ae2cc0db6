package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http_header_timeout}, {@code http_body_timeout}, {@code http_idle_timeout} and
 * {@code max_inflight_bytes}: what bounds the HTTP clients, through every source.
 */
class ClientTimeoutsSettingsTest {
    static final ServerConfig DEFAULTS = ServerConfig.defaults(Path.of("models"));

    @Test
    void tenSixtyAndHundredTwentySecondsByDefault() {
        ServerConfig c = ServerConfigLoader.load(DEFAULTS, null, Map.of(), Map.of());
        assertThat(c.clientTimeouts()).isEqualTo(new ClientTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60),
                Duration.ofSeconds(120)));
    }

    @Test
    void fileEnvironmentAndFlagsInThatOrderAndZeroTurnsOneOff(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("server.yaml"),
                "http_header_timeout: 5s\nhttp_body_timeout: 2m\nhttp_idle_timeout: 0\n");
        ServerConfig fromFile = ServerConfigLoader.load(DEFAULTS, file, Map.of(), Map.of());
        assertThat(fromFile.clientTimeouts()).isEqualTo(new ClientTimeouts(Duration.ofSeconds(5), Duration.ofMinutes(2),
                Duration.ZERO));
        ServerConfig fromEnvAndFlag = ServerConfigLoader.load(DEFAULTS, file,
                Map.of("TORCHLIGHT_HTTP_HEADER_TIMEOUT", "500ms", "TORCHLIGHT_HTTP_IDLE_TIMEOUT", "30"),
                Map.of(ServerSetting.HTTP_IDLE_TIMEOUT, "45s"));
        assertThat(fromEnvAndFlag.clientTimeouts()).isEqualTo(new ClientTimeouts(Duration.ofMillis(500),
                Duration.ofMinutes(2), Duration.ofSeconds(45)));
    }

    @Test
    void wrongValuesNameTheirSource() {
        assertThatThrownBy(() -> ServerConfigLoader.load(DEFAULTS, null, Map.of(),
                Map.of(ServerSetting.HTTP_BODY_TIMEOUT, "soon"))).isInstanceOf(ConfigException.class)
                .hasMessageContainingAll("--http-body-timeout", "a duration such as 500ms");
        assertThatThrownBy(() -> ServerConfigLoader.load(DEFAULTS, null, Map.of("TORCHLIGHT_HTTP_HEADER_TIMEOUT", "-1s"),
                Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining("TORCHLIGHT_HTTP_HEADER_TIMEOUT");
    }

    @Test
    void theInflightBudgetIsFourLargestBodiesUnlessSetAndNeverLessThanOne(@TempDir Path dir) throws Exception {
        assertThat(ServerConfigLoader.load(DEFAULTS, null, Map.of(), Map.of()).maxInflightBytes()).isEqualTo(256L << 20);
        assertThat(ServerConfigLoader.load(DEFAULTS, null, Map.of(), Map.of(ServerSetting.MAX_REQUEST_SIZE, "1MiB"))
                .maxInflightBytes()).as("follows the size limit").isEqualTo(4L << 20);
        Path file = Files.writeString(dir.resolve("server.yaml"), "max_inflight_bytes: 1GiB\n");
        assertThat(ServerConfigLoader.load(DEFAULTS, file, Map.of(), Map.of()).maxInflightBytes()).isEqualTo(1L << 30);
        assertThatThrownBy(() -> ServerConfigLoader.load(DEFAULTS, null, Map.of("TORCHLIGHT_MAX_INFLIGHT_BYTES", "1MiB"),
                Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContainingAll("--max-inflight-bytes", "less than", "--max-request-size");
    }
}
