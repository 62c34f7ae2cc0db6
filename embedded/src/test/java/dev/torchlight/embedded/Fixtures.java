package dev.torchlight.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The committed fixture models (testdata/models) and copies of them to change. */
final class Fixtures {
    private Fixtures() {}

    /** testdata/models, found above the working directory. */
    static Path models() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata/models"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("testdata/models not found above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("testdata/models");
    }

    /** Copies a folder of the fixtures ({@code relative}, e.g. {@code mlp/1}) to the same place under {@code to}. */
    static void copy(String relative, Path to) {
        Path from = models().resolve(relative);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(relative).resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(file, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One row of the mlp's 64 inputs, different for each {@code seed}. */
    static float[] mlpRow(int seed) {
        float[] row = new float[64];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) Math.sin(seed * 64 + i);
        }
        return row;
    }
}
