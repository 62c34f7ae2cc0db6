package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfigParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's {@code config.yaml} under fuzzed text: every file is read or refused with a
 * {@link ConfigException} that names the file; nothing else may escape (a repository with a broken
 * config must never take the server down).
 */
class ModelConfigFuzzTest {
    private static final Path DIR = temporaryModel();

    @FuzzTest(maxDuration = "8m")
    void parsesOrRefusesNamingTheFile(FuzzedDataProvider data) throws IOException {
        Path file = DIR.resolve("config.yaml");
        Files.write(file, data.consumeRemainingAsBytes());
        try {
            ModelConfigParser.parse(file, "m");
        } catch (ConfigException expected) {
            assertThat(expected.getMessage()).contains("config.yaml");
        }
    }

    private static Path temporaryModel() {
        try {
            Path dir = Files.createTempDirectory("torchlight-fuzz").resolve("m");
            Files.createDirectories(dir);
            // Deleted at exit in the reverse order of registration: the file, then the folders.
            dir.toFile().getParentFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            dir.resolve("config.yaml").toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
