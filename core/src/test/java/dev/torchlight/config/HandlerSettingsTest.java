package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code allow_custom_handlers} and {@code preprocess_threads} through every source. */
class HandlerSettingsTest {
    static final ServerConfig DEFAULTS = ServerConfig.defaults(Path.of("models"));

    @Test
    void offAndAutomaticByDefault() {
        ServerConfig c = ServerConfigLoader.load(DEFAULTS, null, Map.of(), Map.of());
        assertThat(c.allowCustomHandlers()).isFalse();
        assertThat(c.preprocessThreads()).isZero();
    }

    @Test
    void fileEnvironmentAndFlagsInThatOrder(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("server.yaml"), "allow_custom_handlers: true\npreprocess_threads: 2\n");
        ServerConfig fromFile = ServerConfigLoader.load(DEFAULTS, file, Map.of(), Map.of());
        assertThat(fromFile.allowCustomHandlers()).isTrue();
        assertThat(fromFile.preprocessThreads()).isEqualTo(2);
        ServerConfig fromEnv = ServerConfigLoader.load(DEFAULTS, file,
                Map.of("TORCHLIGHT_ALLOW_CUSTOM_HANDLERS", "false", "TORCHLIGHT_PREPROCESS_THREADS", "3"), Map.of());
        assertThat(fromEnv.allowCustomHandlers()).isFalse();
        assertThat(fromEnv.preprocessThreads()).isEqualTo(3);
        ServerConfig fromFlag = ServerConfigLoader.load(DEFAULTS, file, Map.of("TORCHLIGHT_ALLOW_CUSTOM_HANDLERS", "false"),
                Map.of(ServerSetting.ALLOW_CUSTOM_HANDLERS, "true", ServerSetting.PREPROCESS_THREADS, "4"));
        assertThat(fromFlag.allowCustomHandlers()).isTrue();
        assertThat(fromFlag.preprocessThreads()).isEqualTo(4);
    }

    @Test
    void wrongValuesNameTheirSource() {
        assertThatThrownBy(() -> ServerConfigLoader.load(DEFAULTS, null, Map.of("TORCHLIGHT_ALLOW_CUSTOM_HANDLERS", "yes"),
                Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContainingAll("TORCHLIGHT_ALLOW_CUSTOM_HANDLERS", "true or false");
        assertThatThrownBy(() -> ServerConfigLoader.load(DEFAULTS, null, Map.of(),
                Map.of(ServerSetting.PREPROCESS_THREADS, "-1"))).isInstanceOf(ConfigException.class)
                .hasMessageContainingAll("--preprocess-threads", "0 to 1024");
    }
}
