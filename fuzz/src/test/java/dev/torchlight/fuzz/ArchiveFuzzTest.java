package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.repository.archive.ArchiveException;
import dev.torchlight.repository.archive.ExtractionLimits;
import dev.torchlight.repository.archive.ModelArchive;
import dev.torchlight.repository.archive.SafeZipExtractor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The archive readers under fuzzed zip files: {@link SafeZipExtractor} (TorchServe {@code .mar}
 * files, torchlight archives) and {@link ModelArchive#unpack} (a {@code .tlar}: extraction, then its
 * manifest). Every archive is unpacked or refused with an {@link ArchiveException} and a message;
 * nothing else may escape, and whatever happens, nothing appears outside the target directory and
 * nothing in it is a link. Small limits keep each input cheap.
 */
class ArchiveFuzzTest {
    private static final ExtractionLimits LIMITS = new ExtractionLimits(16, 64 * 1024, 32 * 1024);
    private static final SafeZipExtractor EXTRACTOR = new SafeZipExtractor(LIMITS);
    private static final Path ROOT = scratch();
    private static final AtomicLong RUNS = new AtomicLong();

    @FuzzTest(maxDuration = "60s")
    void extractsInsideTheTargetOrRefuses(byte[] zip) throws IOException {
        Path box = newBox(zip);
        Path target = box.resolve("out");
        try {
            List<Path> files = EXTRACTOR.extract(box.resolve("in.zip"), target);
            for (Path file : files) {
                assertThat(file.normalize()).startsWith(target);
                assertThat(file).isRegularFile();
            }
        } catch (ArchiveException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            try (Stream<Path> left = Files.list(target)) {
                assertThat(left).as("what a refused archive leaves behind").isEmpty();
            }
        }
        assertOnlyTargetWritten(box, target);
    }

    @FuzzTest(maxDuration = "60s")
    void unpacksAModelArchiveOrRefuses(byte[] zip) throws IOException {
        Path box = newBox(zip);
        Path target = box.resolve("out");
        try {
            ModelSource source = ModelArchive.unpack(box.resolve("in.zip"), target, EXTRACTOR);
            assertThat(source.directory()).startsWith(target);
        } catch (ArchiveException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            assertThat(target).as("a refused archive's target").doesNotExist();
        }
        assertOnlyTargetWritten(box, target);
    }

    /** A fresh directory holding only {@code in.zip}. */
    private static Path newBox(byte[] zip) throws IOException {
        Path box = Files.createDirectory(ROOT.resolve(Long.toString(RUNS.incrementAndGet())));
        Files.write(box.resolve("in.zip"), zip);
        return box;
    }

    /** Nothing beside the archive and the target, no link inside the target; then clears the box away. */
    private static void assertOnlyTargetWritten(Path box, Path target) throws IOException {
        try (Stream<Path> root = Files.list(ROOT); Stream<Path> beside = Files.list(box)) {
            assertThat(root).containsExactly(box);
            assertThat(beside).allMatch(p -> p.equals(box.resolve("in.zip")) || p.equals(target));
        }
        if (Files.exists(target)) {
            Path real = target.toRealPath();
            try (Stream<Path> inside = Files.walk(target)) {
                inside.forEach(p -> {
                    assertThat(Files.isSymbolicLink(p)).as(p + " is a link").isFalse();
                    assertThat(toRealPath(p)).startsWith(real);
                });
            }
        }
        ModelArchive.delete(box);
    }

    private static Path toRealPath(Path p) {
        try {
            return p.toRealPath(LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Memory-backed when the machine has it: a file system write per input is the cost here. */
    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "torchlight-fuzz")
                    : Files.createTempDirectory("torchlight-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> ModelArchive.delete(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
