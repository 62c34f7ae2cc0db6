package dev.torchlight.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The load generator speaks to servers over the wire only: it must work against any server with
 * the same protocol, so it may not import the server, and its HTTP side may not import any
 * torchlight code outside the bench module. Only raw mode uses the engine SPI (core and the
 * PyTorch adapter), which is the baseline it is meant to measure.
 */
class BenchDependencyTest {
    private static final Pattern IMPORT = Pattern.compile("^\\s*import\\s+(static\\s+)?([\\w.]+)", Pattern.MULTILINE);
    private static final Path SOURCES = Path.of("src/main/java/dev/torchlight/bench");

    @Test
    void noBenchCodeImportsTheServer() throws IOException {
        assertThat(violations(SOURCES, "dev.torchlight.server")).isEmpty();
    }

    @Test
    void theLoadGeneratorImportsNoTorchlightCodeOutsideTheBenchModule() throws IOException {
        for (String pkg : List.of("load", "http")) {
            Path dir = SOURCES.resolve(pkg);
            assertThat(Files.isDirectory(dir)).as(dir + " exists").isTrue();
            assertThat(violations(dir, "dev.torchlight.").stream().filter(v -> !v.contains("dev.torchlight.bench.")))
                    .isEmpty();
        }
    }

    @Test
    void theScanFindsAViolation(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("Bad.java"), "package x;\nimport dev.torchlight.server.http.HttpServer;\n");
        assertThat(violations(dir, "dev.torchlight.server")).hasSize(1);
    }

    private static List<String> violations(Path root, String forbidden) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    if (m.group(2).startsWith(forbidden)) {
                        found.add(file + ": " + m.group(2));
                    }
                }
            }
        }
        return found;
    }
}
