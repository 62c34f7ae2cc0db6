package dev.torchlight;

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
import org.junit.jupiter.api.io.TempDir;

/**
 * The dependency rule: the core names no Netty, gRPC, Jackson, Prometheus or native-access (FFM) type, whether by
 * import, static import or fully qualified name (a string naming such a class counts too, since it
 * can only be there to load it reflectively). Comments are not code and are skipped.
 */
class ArchitectureTest {
    private static final List<String> FORBIDDEN =
            List.of("io.netty", "io.grpc", "java.lang.foreign", "com.fasterxml", "io.prometheus");

    private static final Pattern FORBIDDEN_NAME = Pattern.compile(
            "(?<![\\w.])(" + String.join("|", FORBIDDEN.stream()
                    .map(name -> name.replace(".", "\\s*\\.\\s*")).toList()) + ")\\s*\\.");

    private static final Path MAIN = Path.of("src/main/java");

    @Test
    void coreNamesNoEdgeFrameworkType() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(MAIN)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        // Guard against scanning the wrong directory and passing vacuously.
        assertThat(files).as("java files under %s", MAIN.toAbsolutePath()).hasSizeGreaterThan(10);
        assertThat(files).contains(MAIN.resolve("dev/torchlight/api/Tensor.java"),
                MAIN.resolve("dev/torchlight/registry/ModelManager.java"));

        List<String> violations = new ArrayList<>();
        for (Path file : files) {
            violations.addAll(violations(file.toString(), Files.readString(file)));
        }
        assertThat(violations).as("core must not depend on %s", FORBIDDEN).isEmpty();
    }

    @Test
    void corePomDeclaresNoEdgeFrameworkDependency() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        assertThat(pom).contains("<artifactId>torchlight-core</artifactId>");
        for (String group : List.of("io.netty", "io.grpc", "com.fasterxml", "io.prometheus")) {
            assertThat(pom).as("core/pom.xml").doesNotContain("<groupId>" + group);
        }
    }

    @Test
    void scannerFlagsImportsStaticImportsAndQualifiedNames() {
        String source = """
                package dev.torchlight.api;

                import io.netty.buffer.ByteBuf;
                import static io.grpc.Status.INTERNAL;
                import java.util.List;

                final class Sneaky {
                    java.lang.foreign.MemorySegment segment;
                    Object mapper = new com.fasterxml.jackson.databind.ObjectMapper();
                    Class<?> c = Class.forName("io.prometheus.metrics.core.Counter");
                    String url = "http://x/y"; Object o = io . netty.util.CharsetUtil.UTF_8;
                }
                """;

        assertThat(violations("Sneaky.java", source)).containsExactly(
                "Sneaky.java:3: import io.netty.buffer.ByteBuf;",
                "Sneaky.java:4: import static io.grpc.Status.INTERNAL;",
                "Sneaky.java:8: java.lang.foreign.MemorySegment segment;",
                "Sneaky.java:9: Object mapper = new com.fasterxml.jackson.databind.ObjectMapper();",
                "Sneaky.java:10: Class<?> c = Class.forName(\"io.prometheus.metrics.core.Counter\");",
                "Sneaky.java:11: String url = \"http://x/y\"; Object o = io . netty.util.CharsetUtil.UTF_8;");
    }

    @Test
    void scannerFindsAViolationInARealFile(@TempDir Path tmp) throws IOException {
        Path pkg = Files.createDirectories(tmp.resolve("dev/torchlight/api"));
        Path file = pkg.resolve("Bad.java");
        Files.writeString(file, "package dev.torchlight.api;\n\nimport io.netty.buffer.ByteBuf;\n\nclass Bad {}\n");

        assertThat(violations(file.toString(), Files.readString(file)))
                .containsExactly(file + ":3: import io.netty.buffer.ByteBuf;");
    }

    @Test
    void scannerIgnoresCommentsAndLookalikes() {
        String source = """
                package dev.torchlight.api;
                // Unlike io.netty.buffer.ByteBuf, a Tensor is ...
                /* see java.lang.foreign.MemorySegment
                   and com.fasterxml.jackson */
                /** Replaces {@link io.grpc.Status}. */
                final class Fine {
                    String comment = "// not a comment"; int x = 1; // io.netty.Channel
                    char quote = '"'; String s = "a"; // io.grpc.Server
                    Object scenario = my.io.netty.Thing.class;
                    String block = \"""
                        // inside a text block, not a comment
                        \""";
                }
                """;

        assertThat(violations("Fine.java", source)).isEmpty();
    }

    /** Each line of {@code source} that names a forbidden package outside comments, as {@code file:line: text}. */
    static List<String> violations(String file, String source) {
        String[] code = stripComments(source).split("\n", -1);
        String[] original = source.split("\n", -1);
        List<String> found = new ArrayList<>();
        for (int i = 0; i < code.length; i++) {
            Matcher m = FORBIDDEN_NAME.matcher(code[i]);
            if (m.find()) {
                found.add(file + ":" + (i + 1) + ": " + original[i].strip());
            }
        }
        return found;
    }

    /** Blanks out comments, keeping string literals, text blocks and line breaks as they are. */
    static String stripComments(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                while (i < n && source.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                for (; i < end; i++) {
                    out.append(source.charAt(i) == '\n' ? '\n' : ' ');
                }
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
                out.append(source, i, end);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, n);
                out.append(source, i, j);
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
