package dev.torchlight.repository.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeZipExtractorTest {
    @TempDir
    Path dir;

    private final SafeZipExtractor extractor = new SafeZipExtractor(ExtractionLimits.defaults());

    @Test
    void extractsFilesAndDirectories() throws IOException {
        Path zip = zip(Map.of("model.pt", "weights", "config.yaml", "max_batch_size: 4\n",
                "extra/index_to_name.json", "{}"));
        Path target = dir.resolve("out");

        List<Path> files = extractor.extract(zip, target);

        assertThat(files).hasSize(3);
        assertThat(target.resolve("model.pt")).hasContent("weights");
        assertThat(target.resolve("extra/index_to_name.json")).hasContent("{}");
    }

    @Test
    void refusesParentSegments() throws IOException {
        Path zip = zip(Map.of("a/../../evil.txt", "x"));
        assertThatThrownBy(() -> extractor.extract(zip, dir.resolve("out")))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("a/../../evil.txt")
                .hasMessageContaining("'..'");
        assertThat(dir.resolve("evil.txt")).doesNotExist();
    }

    @Test
    void refusesAbsolutePathsDriveLettersAndBackslashes() throws IOException {
        for (String name : List.of("/etc/passwd", "C:/windows/x", "a\\..\\b")) {
            Path zip = zip(Map.of(name, "x"));
            assertThatThrownBy(() -> extractor.extract(zip, dir.resolve("out-" + name.hashCode())))
                    .as(name)
                    .isInstanceOf(ArchiveException.class)
                    .hasMessageContaining("is refused");
        }
    }

    @Test
    void refusesTooManyEntriesAndCleansUp() throws IOException {
        Path zip = zip(Map.of("a", "1", "b", "2", "c", "3"));
        SafeZipExtractor small = new SafeZipExtractor(new ExtractionLimits(2, 1000, 1000));
        Path target = dir.resolve("out");

        assertThatThrownBy(() -> small.extract(zip, target))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("more than 2 entries");
        try (var left = Files.list(target)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void countsBytesWhileWritingNotFromHeaders() throws IOException {
        // 1 MB of zeros compresses to about 1 KB: a tiny bomb.
        Path zip = zip(Map.of("bomb.bin", "\0".repeat(1 << 20)));
        assertThat(Files.size(zip)).isLessThan(10_000);
        SafeZipExtractor small = new SafeZipExtractor(new ExtractionLimits(10, 64 * 1024, 64 * 1024));

        assertThatThrownBy(() -> small.extract(zip, dir.resolve("out")))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("bomb.bin")
                .hasMessageContaining("more than the limit");
    }

    @Test
    void totalLimitSpansEntries() throws IOException {
        Path zip = zip(Map.of("a", "x".repeat(600), "b", "y".repeat(600)));
        SafeZipExtractor small = new SafeZipExtractor(new ExtractionLimits(10, 1000, 1000));

        assertThatThrownBy(() -> small.extract(zip, dir.resolve("out")))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("1000 bytes in all");
    }

    @Test
    void refusesDuplicateNames() throws IOException {
        Path zip = dir.resolve("dup.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("a"));
            out.closeEntry();
            out.putNextEntry(new ZipEntry("./a"));
            out.closeEntry();
        }
        assertThatThrownBy(() -> extractor.extract(zip, dir.resolve("out")))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("appears twice");
    }

    @Test
    void refusesNonEmptyOrLinkTargetsAndNonZips() throws IOException {
        Path zip = zip(Map.of("a", "1"));
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        assertThatThrownBy(() -> extractor.extract(zip, full)).hasMessageContaining("not empty");

        Path link = Files.createSymbolicLink(dir.resolve("link"), Files.createDirectories(dir.resolve("real")));
        assertThatThrownBy(() -> extractor.extract(zip, link)).hasMessageContaining("symbolic link");

        Path notZip = Files.writeString(dir.resolve("x.zip"), "not a zip");
        assertThatThrownBy(() -> extractor.extract(notZip, dir.resolve("o")))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining("not a valid zip archive");
    }

    private Path zip(Map<String, String> entries) throws IOException {
        Path zip = Files.createTempFile(dir, "t", ".zip");
        try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
            for (var e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return zip;
    }
}
