package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recommendation example (examples/recommendation) at a tiny size: its make_model.py builds the
 * model and config, the real server serves them, and its client.py sends ragged multi-hot requests
 * at once and compares every answer with PyTorch running the model file, then sends an id beyond a
 * table. Also: the committed configs are what make_model.py writes. Needs the project's Python
 * environment (.venv, tools/python-env.sh); skipped without it.
 */
class RecommendationExampleTest {
    private static final Path EXAMPLE = TestData.root().resolve("examples/recommendation");
    private static final Path PYTHON = TestData.root().resolve(".venv/bin/python");

    @TempDir
    Path repo;

    @Test
    void theClientsRaggedRequestsGetPyTorchsScoresAndABadIdIsA400() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "the project's Python environment (.venv) is not there");
        run("make_model.py", "--rows", "2000", "--repository", repo.toString());
        try (ServerHarness harness = new ServerHarness(repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE)) {
            String output = run("client.py", "--url", harness.base.toString().replaceAll("/$", ""), "--repository",
                    repo.toString(), "--check", "--requests", "24", "--batch", "2");

            assertThat(output).contains("request 23: ").doesNotContain("DIFFERENT", "HTTP 5");
            assertThat(output.lines().filter(l -> l.contains("PyTorch alone: same"))).hasSize(24);
            assertThat(output).contains("HTTP 400: input 'ids_0': element")
                    .contains("outside the input's value_range [0, 799]");
        }
    }

    @Test
    void theCommittedConfigsAreWhatMakeModelWrites() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "the project's Python environment (.venv) is not there");
        run("make_model.py", "--config-only", "--repository", repo.resolve("cpu").toString());
        run("make_model.py", "--config-only", "--rows", "1000000000", "--device", "gpu", "--repository",
                repo.resolve("gpu").toString());

        assertThat(repo.resolve("cpu/dlrm/config.yaml")).hasSameTextualContentAs(EXAMPLE.resolve("config.yaml"));
        assertThat(repo.resolve("gpu/dlrm/config.yaml")).hasSameTextualContentAs(EXAMPLE.resolve("config-gpu-1b.yaml"));
    }

    /** Runs one of the example's scripts; its output, which it must end with status 0. */
    private static String run(String script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), EXAMPLE.resolve(script).toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean ended = process.waitFor(300, TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly();
        }
        assertThat(ended).as(script + " finished: " + output).isTrue();
        assertThat(process.exitValue()).as(script + ": " + output).isZero();
        return output;
    }
}
