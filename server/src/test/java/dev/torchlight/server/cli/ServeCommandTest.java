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
                "--max-request-size");
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
    void grpcPortFlag() {
        ServeCommand command = new ServeCommand();
        command.grpcPort = "0";
        assertThat(command.resolve(Map.of("TORCHLIGHT_GRPC_PORT", "7001")).grpcPort()).isZero();
        assertThat(new ServeCommand().resolve(Map.of("TORCHLIGHT_GRPC_PORT", "7001")).grpcPort()).isEqualTo(7001);
        assertThat(new ServeCommand().resolve(Map.of()).grpcPort()).isEqualTo(7070);
    }
}
