package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ServerConfigLoaderTest {
    private static final ServerConfig DEFAULTS = ServerConfig.defaults(Path.of("/srv/models"));

    @TempDir
    Path tmp;

    private Path file(String yaml) throws IOException {
        Path f = tmp.resolve("server.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static ServerConfig load(Path file, Map<String, String> env, Map<ServerSetting, String> flags) {
        return ServerConfigLoader.load(DEFAULTS, file, env, flags);
    }

    private static long sizeFlag(String value) {
        return load(null, Map.of(), Map.of(ServerSetting.MAX_REQUEST_SIZE, value)).maxRequestSize();
    }

    @Test
    void defaultsWhenNothingIsSet() {
        ServerConfig config = load(null, Map.of(), Map.of());

        assertThat(config).isEqualTo(DEFAULTS);
        assertThat(config.host()).isEqualTo("127.0.0.1");
        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.modelRepository()).isEqualTo(Path.of("/srv/models"));
        assertThat(config.models()).isEmpty();
        assertThat(config.maxRequestSize()).isEqualTo(64L * 1024 * 1024);
    }

    @Test
    void emptyFileKeepsDefaults() throws IOException {
        assertThat(load(file(""), Map.of(), Map.of())).isEqualTo(DEFAULTS);
    }

    @Test
    void precedenceIsDefaultsThenFileThenEnvThenFlags() throws IOException {
        Path f = file("http_port: 1001\n");
        Map<String, String> env = Map.of("TORCHLIGHT_HTTP_PORT", "1002");
        Map<ServerSetting, String> flags = Map.of(ServerSetting.HTTP_PORT, "1003");

        assertThat(load(null, Map.of(), Map.of()).httpPort()).isEqualTo(8080);
        assertThat(load(f, Map.of(), Map.of()).httpPort()).isEqualTo(1001);
        assertThat(load(f, env, Map.of()).httpPort()).isEqualTo(1002);
        assertThat(load(null, env, Map.of()).httpPort()).isEqualTo(1002);
        assertThat(load(f, env, flags).httpPort()).isEqualTo(1003);
        assertThat(load(f, Map.of(), flags).httpPort()).isEqualTo(1003);
        assertThat(load(null, Map.of(), flags).httpPort()).isEqualTo(1003);
    }

    @Test
    void eachLayerSetsOnlyWhatItNames() throws IOException {
        Path f = file("host: 0.0.0.0\nhttp_port: 9000\n");
        ServerConfig config = load(f, Map.of("TORCHLIGHT_MODELS", "a,b"),
                Map.of(ServerSetting.MAX_REQUEST_SIZE, "1MiB"));

        assertThat(config).isEqualTo(new ServerConfig("0.0.0.0", 9000, Path.of("/srv/models"), List.of("a", "b"),
                1L << 20, ServerConfig.DEFAULT_METRICS_PORT, ServerConfig.DEFAULT_ACCESS_LOG, ManagementConfig.defaults(),
                SecurityConfig.defaults(), ServerConfig.DEFAULT_GRPC_PORT, HandlerConfig.defaults()));
    }

    @Test
    void managementAndSecuritySettings() throws IOException {
        Path f = file("management_port: 9001\nmodel_control: poll\npoll_interval: 500ms\n"
                + "allowed_urls: ['https://models\\.example\\.com/.*']\ntls_cert: cert.pem\ntls_key: key.pem\n");
        ServerConfig config = load(f, Map.of("TORCHLIGHT_SHUTDOWN_GRACE", "5"),
                Map.of(ServerSetting.DISABLE_TOKEN_AUTH, "true", ServerSetting.MANAGEMENT_HOST, "0.0.0.0"));

        assertThat(config.management()).isEqualTo(new ManagementConfig("0.0.0.0", 9001, ModelControl.POLL,
                java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(5)));
        assertThat(config.security().tokenAuth()).isFalse();
        assertThat(config.security().inferenceToken()).isFalse();
        assertThat(config.security().allowedUrls()).containsExactly("https://models\\.example\\.com/.*");
        assertThat(config.security().tlsCert()).isEqualTo(f.getParent().resolve("cert.pem"));
    }

    @Test
    void badManagementSettingsNameTheirSource() {
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.MODEL_CONTROL, "sometimes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--model-control")
                .hasMessageContaining("none, poll or explicit");
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.POLL_INTERVAL, "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--poll-interval");
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.ALLOWED_URLS, "http://(")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--allowed-urls")
                .hasMessageContaining("not a valid regular expression");
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.TLS_CERT, "c.pem")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--tls-key");
    }

    @Test
    void grpcPortFromEveryLayer() throws IOException {
        Path f = file("grpc_port: 7001\n");
        assertThat(load(null, Map.of(), Map.of()).grpcPort()).isEqualTo(7070);
        assertThat(load(f, Map.of(), Map.of()).grpcPort()).isEqualTo(7001);
        assertThat(load(f, Map.of("TORCHLIGHT_GRPC_PORT", "7002"), Map.of()).grpcPort()).isEqualTo(7002);
        assertThat(load(f, Map.of(), Map.of(ServerSetting.GRPC_PORT, "0")).grpcPort()).isZero();
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.GRPC_PORT, "70000")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("--grpc-port")
                .hasMessageContaining("expected a port from 0 to 65535");
    }

    @Test
    void unknownKeyInFile() throws IOException {
        Path f = file("http_port: 8080\nhttps_port: 8443\n");
        assertThatThrownBy(() -> load(f, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("key 'https_port'")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("http_port");
    }

    @Test
    void invalidYamlInFile() throws IOException {
        Path f = file("http_port: [8080\n");
        assertThatThrownBy(() -> load(f, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void missingFile() {
        Path f = tmp.resolve("nope.yaml");
        assertThatThrownBy(() -> load(f, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("not found");
    }

    @Test
    void wrongTypeInFile() throws IOException {
        Path f = file("http_port: eighty\n");
        assertThatThrownBy(() -> load(f, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("key 'http_port'")
                .hasMessageContaining("expected a port from 0 to 65535")
                .hasMessageContaining("'eighty'");
    }

    @Test
    void wrongTypeInEnvironment() {
        assertThatThrownBy(() -> load(null, Map.of("TORCHLIGHT_HTTP_PORT", "eighty"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("environment variable TORCHLIGHT_HTTP_PORT")
                .hasMessageContaining("expected a port from 0 to 65535")
                .hasMessageContaining("'eighty'");
    }

    @Test
    void wrongTypeInFlag() {
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.HTTP_PORT, "eighty")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --http-port")
                .hasMessageContaining("expected a port from 0 to 65535")
                .hasMessageContaining("'eighty'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "65536", "80.5", ""})
    void portOutOfRange(String port) {
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.HTTP_PORT, port)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --http-port")
                .hasMessageContaining("expected a port");
    }

    @Test
    void portBoundsAccepted() {
        assertThat(load(null, Map.of(), Map.of(ServerSetting.HTTP_PORT, "0")).httpPort()).isZero();
        assertThat(load(null, Map.of(), Map.of(ServerSetting.HTTP_PORT, "65535")).httpPort()).isEqualTo(65535);
    }

    @Test
    void wrongYamlTypesInFileNameTheKey() throws IOException {
        Path f = file("host: 12\n");
        assertThatThrownBy(() -> load(f, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("key 'host'")
                .hasMessageContaining("expected a host name");
        Path g = file("models: {a: 1}\n");
        assertThatThrownBy(() -> load(g, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("key 'models'")
                .hasMessageContaining("a mapping");
    }

    @Test
    void unknownTorchlightEnvironmentVariableIsAnError() {
        assertThatThrownBy(() -> load(null, Map.of("TORCHLIGHT_HTTP_PROT", "1"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("environment variable TORCHLIGHT_HTTP_PROT")
                .hasMessageContaining("unknown")
                .hasMessageContaining("TORCHLIGHT_HTTP_PORT");
    }

    @Test
    void configVariableAndForeignVariablesAreIgnored() {
        Map<String, String> env = new HashMap<>();
        env.put("TORCHLIGHT_CONFIG", "/does/not/matter.yaml");
        env.put("PATH", "/usr/bin");
        env.put("HTTP_PORT", "not a number");
        env.put("torchlight_http_port", "not a number either");

        assertThat(load(null, env, Map.of())).isEqualTo(DEFAULTS);
    }

    @ParameterizedTest
    @CsvSource({
        "67108864, 67108864",
        "64MiB, 67108864",
        "64 MiB, 67108864",
        "64mib, 67108864",
        "64MB, 64000000",
        "512k, 524288",
        "512KiB, 524288",
        "1GiB, 1073741824",
        "2048B, 2048",
    })
    void sizes(String text, long bytes) {
        assertThat(sizeFlag(text)).isEqualTo(bytes);
    }

    @Test
    void sizeAsYamlInteger() throws IOException {
        assertThat(load(file("max_request_size: 2048\n"), Map.of(), Map.of()).maxRequestSize()).isEqualTo(2048);
        assertThat(load(file("max_request_size: 2MiB\n"), Map.of(), Map.of()).maxRequestSize()).isEqualTo(2L << 20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lots", "64XB", "1.5GiB", "MiB", "-1", "4096iB", "4096I", "99999999999999999999",
        "99999999999T", ""})
    void badSizes(String text) {
        assertThatThrownBy(() -> sizeFlag(text))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --max-request-size")
                .hasMessageContaining("expected a size");
    }

    @Test
    void sizeBelowOneKibibyteIsRejected() {
        assertThatThrownBy(() -> load(null, Map.of("TORCHLIGHT_MAX_REQUEST_SIZE", "1023"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("environment variable TORCHLIGHT_MAX_REQUEST_SIZE")
                .hasMessageContaining("at least 1 KiB");
        assertThat(sizeFlag("1024")).isEqualTo(1024);
    }

    @Test
    void modelsFromCommaSeparatedString() {
        assertThat(load(null, Map.of(), Map.of(ServerSetting.MODELS, " mlp, resnet ,bert")).models())
                .containsExactly("mlp", "resnet", "bert");
        assertThat(load(null, Map.of("TORCHLIGHT_MODELS", "mlp"), Map.of()).models()).containsExactly("mlp");
        assertThat(load(null, Map.of("TORCHLIGHT_MODELS", "  "), Map.of()).models()).isEmpty();
    }

    @Test
    void modelsFromYamlList() throws IOException {
        assertThat(load(file("models: [mlp, resnet]\n"), Map.of(), Map.of()).models())
                .containsExactly("mlp", "resnet");
        assertThat(load(file("models:\n  - mlp\n  - bert\n"), Map.of(), Map.of()).models())
                .containsExactly("mlp", "bert");
        assertThat(load(file("models: mlp,bert\n"), Map.of(), Map.of()).models()).containsExactly("mlp", "bert");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a,,b", "a/b", ",a"})
    void badModelNames(String models) {
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.MODELS, models)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --models")
                .hasMessageContaining("expected model names");
    }

    @Test
    void relativeModelRepositoryInFileResolvesAgainstTheFilesDirectory() throws IOException {
        Path confDir = Files.createDirectories(tmp.resolve("conf"));
        Path f = confDir.resolve("server.yaml");
        Files.writeString(f, "model_repository: ../models\n");

        Path repo = load(f, Map.of(), Map.of()).modelRepository();

        assertThat(repo.isAbsolute()).isTrue();
        assertThat(repo.normalize()).isEqualTo(tmp.resolve("models").toAbsolutePath().normalize());
    }

    @Test
    void absoluteModelRepositoryInFileIsKept() throws IOException {
        Path abs = tmp.resolve("elsewhere").toAbsolutePath();
        assertThat(load(file("model_repository: " + abs + "\n"), Map.of(), Map.of()).modelRepository())
                .isEqualTo(abs);
    }

    @Test
    void relativeModelRepositoryFromEnvironmentOrFlagStaysRelativeToWorkingDirectory() throws IOException {
        Path f = file("model_repository: from-file\n");
        assertThat(load(f, Map.of("TORCHLIGHT_MODEL_REPOSITORY", "models"), Map.of()).modelRepository())
                .isEqualTo(Path.of("models"));
        assertThat(load(f, Map.of(), Map.of(ServerSetting.MODEL_REPOSITORY, "repo")).modelRepository())
                .isEqualTo(Path.of("repo"));
    }

    @Test
    void settingSpellings() {
        assertThat(ServerSetting.HTTP_PORT.key()).isEqualTo("http_port");
        assertThat(ServerSetting.HTTP_PORT.envVar()).isEqualTo("TORCHLIGHT_HTTP_PORT");
        assertThat(ServerSetting.HTTP_PORT.flag()).isEqualTo("--http-port");
        assertThat(ServerSetting.byKey("max_request_size")).isEqualTo(ServerSetting.MAX_REQUEST_SIZE);
        assertThat(ServerSetting.byKey("nope")).isNull();
        assertThat(ServerConfigLoader.CONFIG_ENV).isEqualTo("TORCHLIGHT_CONFIG");
    }

    @Test
    void metricsPortAndAccessLogHaveDefaultsAndCanBeTurnedOff() throws IOException {
        ServerConfig defaults = load(null, Map.of(), Map.of());
        assertThat(defaults.metricsPort()).isEqualTo(8082);
        assertThat(defaults.metricsEnabled()).isTrue();
        assertThat(defaults.accessLog()).isEqualTo(Path.of("logs/access.log"));

        Path f = file("metrics_port: 9100\naccess_log: requests.log\n");
        ServerConfig fromFile = load(f, Map.of(), Map.of());
        assertThat(fromFile.metricsPort()).isEqualTo(9100);
        assertThat(fromFile.accessLog()).isEqualTo(f.getParent().resolve("requests.log"));

        ServerConfig off = load(f, Map.of("TORCHLIGHT_METRICS_PORT", "off"), Map.of(ServerSetting.ACCESS_LOG, "off"));
        assertThat(off.metricsEnabled()).isFalse();
        assertThat(off.accessLog()).isNull();
    }

    @Test
    void aBadMetricsPortNamesTheFlagAndWhatWasExpected() {
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.METRICS_PORT, "99999")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --metrics-port")
                .hasMessageContaining("or 'off'");
    }

    @Test
    void modelNameServesTheRepositoryAsOneModelAndExcludesAModelList() {
        assertThat(DEFAULTS.modelName()).isNull();
        assertThat(load(null, Map.of("TORCHLIGHT_MODEL_NAME", "risk-scorer"), Map.of()).modelName())
                .isEqualTo("risk-scorer");
        assertThat(load(null, Map.of(), Map.of(ServerSetting.MODEL_NAME, "a.b_c-1")).modelName()).isEqualTo("a.b_c-1");
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.MODEL_NAME, "../etc")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("flag --model-name")
                .hasMessageContaining("expected a model name");
        assertThatThrownBy(() -> load(null, Map.of(), Map.of(ServerSetting.MODEL_NAME, "m", ServerSetting.MODELS, "a")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("--model-name serves the repository directory as one model");
    }

    @Test
    void kubernetesServiceLinksForAServiceNamedTorchlightAreNotSettings() {
        Map<String, String> links = Map.of(
                "TORCHLIGHT_SERVICE_HOST", "10.0.0.7",
                "TORCHLIGHT_SERVICE_PORT", "8080",
                "TORCHLIGHT_SERVICE_PORT_HTTP", "8080",
                "TORCHLIGHT_PORT", "tcp://10.0.0.7:8080",
                "TORCHLIGHT_PORT_8080_TCP", "tcp://10.0.0.7:8080",
                "TORCHLIGHT_PORT_8080_TCP_PROTO", "tcp",
                "TORCHLIGHT_PORT_8080_TCP_ADDR", "10.0.0.7",
                "TORCHLIGHT_GPU_SERVICE_HOST", "10.0.0.8",
                "TORCHLIGHT_GPU_PORT", "tcp://10.0.0.8:8080");
        assertThat(load(null, links, Map.of())).isEqualTo(DEFAULTS);
        assertThat(load(null, Map.of("TORCHLIGHT_ENGINE_LIBRARY", "/opt/lib/libtorchlight_engine.so"), Map.of()))
                .as("the engine's variable").isEqualTo(DEFAULTS);
        assertThatThrownBy(() -> load(null, Map.of("TORCHLIGHT_HTP_PORT", "9000"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("environment variable TORCHLIGHT_HTP_PORT: unknown");
    }
}
