package dev.torchlight.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The server's layering: the protocol front ends are codecs over one inference layer and never
 * reach into each other (gRPC names no HTTP class and HTTP no gRPC class; REST v2 and TorchServe
 * name neither the other), and the inference layer names no network or JSON framework, nor any
 * front end. Names in comments do not count; a name anywhere else in code does.
 */
class ArchitectureTest {
    private static final Path MAIN = Path.of("src/main/java/dev/torchlight/server");
    /** A class of the generated gRPC stubs (package {@code inference}), as a regular expression. */
    private static final String GRPC_STUBS = "regex:inference\\.[A-Z]";

    @Test
    void grpcNamesNoHttpClass() throws IOException {
        assertThat(violations("grpc", "dev.torchlight.server.http")).isEmpty();
    }

    @Test
    void httpNamesNoGrpcClass() throws IOException {
        // The gRPC stubs live in package "inference": a capitalized name after it is one of them.
        assertThat(violations("http", "dev.torchlight.server.grpc", "io.grpc", GRPC_STUBS)).isEmpty();
    }

    @Test
    void theRestCodecsNameNeitherTheOther() throws IOException {
        assertThat(violations("http/v2", "dev.torchlight.server.http.torchserve")).isEmpty();
        assertThat(violations("http/torchserve", "dev.torchlight.server.http.v2")).isEmpty();
    }

    @Test
    void theInferenceLayerIsProtocolNeutral() throws IOException {
        assertThat(violations("inference", "io.netty", "io.grpc", GRPC_STUBS, "com.fasterxml", "io.prometheus",
                "dev.torchlight.server.http", "dev.torchlight.server.grpc", "dev.torchlight.server.management"))
                .isEmpty();
    }

    @Test
    void theScanFindsViolations() throws IOException {
        // Guards against scanning the wrong directory, or a pattern that cannot match, passing vacuously.
        assertThat(violations("grpc", "dev.torchlight.server.inference")).isNotEmpty();
        assertThat(violations("grpc", GRPC_STUBS)).isNotEmpty();
    }

    /**
     * Each line of the package's sources that names one of {@code forbidden} outside comments: a
     * package name, or a regular expression after {@code regex:}.
     */
    private static List<String> violations(String pkg, String... forbidden) throws IOException {
        Path dir = MAIN.resolve(pkg);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        assertThat(files).as("java files under %s", dir.toAbsolutePath()).isNotEmpty();
        List<Pattern> patterns = Stream.of(forbidden)
                .map(f -> Pattern.compile("(?<![\\w.])" + (f.startsWith("regex:") ? f.substring(6)
                        : Pattern.quote(f) + "\\b")))
                .toList();
        List<String> found = new ArrayList<>();
        for (Path file : files) {
            String[] lines = stripComments(Files.readString(file)).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i];
                if (patterns.stream().anyMatch(p -> p.matcher(line).find())) {
                    found.add(file + ":" + (i + 1) + ": " + line.strip());
                }
            }
        }
        return found;
    }

    /** Blanks out line and block comments, keeping line breaks. */
    private static String stripComments(String source) {
        return Pattern.compile("//[^\n]*|/\\*.*?\\*/", Pattern.DOTALL).matcher(source)
                .replaceAll(m -> m.group().replaceAll("[^\n]", " "));
    }
}
