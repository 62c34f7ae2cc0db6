package dev.torchlight.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String err) {}

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return new Run(cli.execute(args), err.toString());
    }

    @Test
    void helpListsEveryFlag() {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        assertThat(cli.execute("serve", "--help")).isZero();
        assertThat(out.toString()).contains("--model-repository", "--models", "--host", "--http-port", "--config",
                "--max-request-size", "--metrics-port", "--access-log", "--no-access-log");
    }

    @Test
    void unknownFlagStopsStartUpNamingIt() {
        Run run = run("serve", "--http-prot", "1");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--http-prot");
    }

    @Test
    void wrongTypeInAFlagNamesTheFlagAndWhatWasExpected() {
        Run run = run("serve", "--http-port", "eighty");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("flag --http-port", "expected a port", "'eighty'");
    }

    @Test
    void unknownConfigKeyNamesTheFileAndTheKey() throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, "http_port: 9000\nthreads: 4\n");
        Run run = run("serve", "--config", file.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains(file.toString(), "threads", "unknown key");
    }

    @Test
    void wrongTypeInTheConfigFileNamesTheFileAndTheKey() throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, "max_request_size: [1]\n");
        Run run = run("serve", "--config", file.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains(file.toString(), "max_request_size", "expected a size");
    }

    @Test
    void missingRepositoryOrModelStopsStartUp() {
        Run missingRepo = run("serve", "--model-repository", dir.resolve("nothing").toString(), "--http-port", "0");
        assertThat(missingRepo.exit()).isEqualTo(2);
        assertThat(missingRepo.err()).contains("not a directory");

        Run missingModel = run("serve", "--model-repository", dir.toString(), "--models", "ghost", "--http-port", "0");
        assertThat(missingModel.exit()).isEqualTo(2);
        assertThat(missingModel.err()).contains("ghost");
    }

    @Test
    void precedenceIsDefaultsThenFileThenEnvironmentThenFlags() throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, "http_port: 1001\nhost: 0.0.0.0\nmodels: [a, b]\nmax_request_size: 1MiB\n");
        ServeCommand command = new ServeCommand();
        command.config = file;
        command.httpPort = "1003";

        ServerConfig config = command.resolve(Map.of("TORCHLIGHT_HTTP_PORT", "1002", "TORCHLIGHT_HOST", "127.0.0.2"));

        assertThat(config.httpPort()).isEqualTo(1003);
        assertThat(config.host()).isEqualTo("127.0.0.2");
        assertThat(config.models()).isEqualTo(List.of("a", "b"));
        assertThat(config.maxRequestSize()).isEqualTo(1L << 20);
        assertThat(new ServeCommand().resolve(Map.of()).httpPort()).isEqualTo(8080);
        assertThat(new ServeCommand().resolve(Map.of()).host()).isEqualTo("127.0.0.1");
    }

    @Test
    void configFileCanComeFromTheEnvironment() throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, "http_port: 1234\n");
        assertThat(new ServeCommand().resolve(Map.of("TORCHLIGHT_CONFIG", file.toString())).httpPort()).isEqualTo(1234);
    }

    @Test
    void metricsAndAccessLogFlags() {
        ServerConfig defaults = new ServeCommand().resolve(Map.of());
        assertThat(defaults.metricsPort()).isEqualTo(8082);
        assertThat(defaults.accessLog()).isEqualTo(Path.of("logs", "access.log"));

        ServeCommand command = new ServeCommand();
        command.metricsPort = "off";
        command.accessLog = "/var/log/torchlight.log";
        ServerConfig set = command.resolve(Map.of());
        assertThat(set.metricsEnabled()).isFalse();
        assertThat(set.accessLog()).isEqualTo(Path.of("/var/log/torchlight.log"));

        command.noAccessLog = true;
        assertThat(command.resolve(Map.of()).accessLog()).isNull();
    }

    @Test
    void managementAndSecurityFlagsParseThroughTheCommandLine() {
        ServeCommand command = new ServeCommand();
        picocli.CommandLine.ParseResult parsed = new CommandLine(command).parseArgs("--management-port", "0",
                "--management-host", "10.0.0.1", "--model-control", "poll", "--poll-interval", "2s",
                "--shutdown-grace", "5s", "--disable-token-auth", "--inference-token", "--key-file", "k.json",
                "--allowed-urls", "https://a/.*,file:///srv/.*");
        assertThat(parsed.errors()).isEmpty();

        ServerConfig config = command.resolve(Map.of());

        assertThat(config.management()).isEqualTo(new dev.torchlight.config.ManagementConfig("10.0.0.1", 0,
                dev.torchlight.config.ModelControl.POLL, java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(5)));
        assertThat(config.security().tokenAuth()).isFalse();
        assertThat(config.security().inferenceToken()).isTrue();
        assertThat(config.security().keyFile()).isEqualTo(Path.of("k.json"));
        assertThat(config.security().allowedUrls()).containsExactly("https://a/.*", "file:///srv/.*");
        ServerConfig defaults = new ServeCommand().resolve(Map.of());
        assertThat(defaults.management().port()).isEqualTo(8081);
        assertThat(defaults.management().host()).isEqualTo("127.0.0.1");
        assertThat(defaults.security().tokenAuth()).isTrue();
        assertThat(defaults.security().inferenceToken()).isFalse();
    }

    @Test
    void archiveCommandWritesAnArchiveOrNamesWhatIsWrong() throws IOException {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "name: m\nplatform: torchscript\nmax_batch_size: 0\n"
                + "inputs: [{name: x, datatype: FP32, shape: [1]}]\noutputs: [{name: y, datatype: FP32, shape: [1]}]\n");
        Path model = Files.writeString(dir.resolve("model.pt"), "weights");
        Run ok = run("archive", "--model-name", "m", "--version", "2", "--serialized-file", model.toString(),
                "--config", config.toString(), "--export-path", dir.resolve("out").toString());
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(dir.resolve("out/m.tlar")).isRegularFile();

        Run wrongName = run("archive", "--model-name", "other", "--version", "2", "--serialized-file",
                model.toString(), "--config", config.toString(), "--export-path", dir.resolve("out").toString());
        assertThat(wrongName.exit()).isEqualTo(2);
        assertThat(wrongName.err()).contains("torchlight archive:", "'other'");
        assertThat(run("archive", "--model-name", "m").exit()).isEqualTo(2);
    }

    @Test
    void grpcPortFlag() {
        ServeCommand command = new ServeCommand();
        command.grpcPort = "0";
        assertThat(command.resolve(Map.of("TORCHLIGHT_GRPC_PORT", "7001")).grpcPort()).isZero();
        assertThat(new ServeCommand().resolve(Map.of("TORCHLIGHT_GRPC_PORT", "7001")).grpcPort()).isEqualTo(7001);
        assertThat(new ServeCommand().resolve(Map.of()).grpcPort()).isEqualTo(7070);
    }
}
