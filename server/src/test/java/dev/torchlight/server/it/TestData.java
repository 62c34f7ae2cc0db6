package dev.torchlight.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Finds the committed fixture models and PyTorch's golden outputs. */
final class TestData {
    static final ObjectMapper JSON = new ObjectMapper();

    private TestData() {}

    /** The repository root: the nearest parent of the working directory holding testdata/. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static Path models() {
        return root().resolve("testdata/models");
    }

    /** How many numbered version folders the fixture repository holds: what a server on it serves. */
    static int versionCount() {
        try (Stream<Path> dirs = Files.walk(models(), 2)) {
            return (int) dirs.filter(d -> d.getNameCount() == models().getNameCount() + 2)
                    .filter(Files::isDirectory)
                    .filter(d -> d.getFileName().toString().matches("\\d+"))
                    .count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies fixture model folders into {@code repository}. */
    static void copyModels(Path repository, String... names) {
        for (String name : names) {
            Path from = models().resolve(name);
            try (Stream<Path> files = Files.walk(from)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Path to = repository.resolve(name).resolve(from.relativize(file).toString());
                    if (Files.isDirectory(file)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(file, to);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Every golden file, e.g. mlp_v1.json. */
    static List<Path> goldens() {
        try (Stream<Path> files = Files.list(root().resolve("testdata/golden"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
