package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gRPC client that torchlight did not write: Python stubs generated from the same .proto by
 * Debian's grpc_tools call the real server (clients/python/kserve_grpc_check.py) and compare raw
 * gRPC outputs with the REST answer. Skipped only where python3-grpcio / python3-grpc-tools are
 * missing; CI (.ci/run) installs them.
 */
class PythonGrpcClientTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @Test
    void pythonClientAgreesWithRest() throws IOException, InterruptedException {
        assumeTrue(pythonGrpcPresent(), "/usr/bin/python3 with grpc and grpc_tools is not installed");
        Path script = TestData.root().resolve("clients/python/kserve_grpc_check.py");
        try (ServerHarness harness = new ServerHarness(TestData.models(), List.of("mlp", "two_io"), 64L << 20)) {
            for (String model : List.of("mlp", "two_io")) {
                Process process = new ProcessBuilder(PYTHON.toString(), script.toString(),
                        "--grpc", "127.0.0.1:" + harness.server.grpcAddress().getPort(),
                        "--http", harness.base.toString(), "--model", model)
                        .redirectErrorStream(true)
                        .start();
                boolean ended = process.waitFor(120, TimeUnit.SECONDS);
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!ended) {
                    process.destroyForcibly();
                }
                assertThat(ended).as("the client finished: " + output).isTrue();
                assertThat(process.exitValue()).as(output).isZero();
                assertThat(output).contains("equal over gRPC (raw) and REST (JSON)");
            }
        }
    }

    private static boolean pythonGrpcPresent() throws InterruptedException {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        try {
            Process check = new ProcessBuilder(PYTHON.toString(), "-c", "import grpc, grpc_tools.protoc")
                    .redirectErrorStream(true).start();
            check.getInputStream().readAllBytes();
            return check.waitFor(60, TimeUnit.SECONDS) && check.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
