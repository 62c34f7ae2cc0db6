package dev.torchlight.repository.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.config.ConfigException;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArchiveTest {
    private static final String CONFIG = """
            name: m
            platform: torchscript
            max_batch_size: 0
            inputs:
              - {name: x, datatype: FP32, shape: [2]}
            outputs:
              - {name: y, datatype: FP32, shape: [2]}
            """;

    @TempDir
    Path dir;

    private Path config;
    private Path model;
    private final SafeZipExtractor extractor = new SafeZipExtractor(ExtractionLimits.defaults());

    @BeforeEach
    void files() throws IOException {
        config = Files.writeString(dir.resolve("config.yaml"), CONFIG);
        model = Files.writeString(dir.resolve("model.pt"), "weights");
    }

    @Test
    void writesAndUnpacksAVerifiedModelFolder() throws IOException {
        Path archive = ModelArchive.write("m", 3, model, config, dir.resolve("export"));
        assertThat(archive).isEqualTo(dir.resolve("export/m.tlar"));
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            String manifest = new String(zip.getInputStream(zip.getEntry(ModelArchive.MANIFEST)).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertThat(manifest).contains("model_name: 'm'").contains("version: 3")
                    .contains("3/model.pt: " + ModelArchive.sha256(model));
        }

        ModelSource source = ModelArchive.unpack(archive, dir.resolve("out"), extractor);

        assertThat(source.name()).isEqualTo("m");
        assertThat(source.versions()).containsOnlyKeys(3L);
        assertThat(source.versions().get(3L)).hasContent("weights");
        assertThat(source.configFile()).hasContent(CONFIG);
    }

    @Test
    void refusesAnInvalidConfigOrAMismatchedName() {
        assertThatThrownBy(() -> ModelArchive.write("other", 1, model, config, dir.resolve("export")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'other'");
        assertThatThrownBy(() -> ModelArchive.write("m", 0, model, config, dir.resolve("export")))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("positive");
    }

    @Test
    void aChangedFileFailsTheChecksumAndNothingStaysUnpacked() throws IOException {
        Path archive = ModelArchive.write("m", 1, model, config, dir.resolve("export"));
        Path tampered = rewrite(archive, "1/model.pt", "evil weights");
        Path out = dir.resolve("out");

        assertThatThrownBy(() -> ModelArchive.unpack(tampered, out, extractor))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("checksum mismatch for 1/model.pt");
        assertThat(out).doesNotExist();
    }

    @Test
    void extraOrMissingFilesAndMissingManifestsAreRefused() throws IOException {
        Path archive = ModelArchive.write("m", 1, model, config, dir.resolve("export"));
        Map<String, String> entries = read(archive);
        entries.put("extra.sh", "rm -rf /");
        assertThatThrownBy(() -> ModelArchive.unpack(zip("extra.tlar", entries), dir.resolve("a"), extractor))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("do not match the manifest");

        Map<String, String> noManifest = read(archive);
        noManifest.remove(ModelArchive.MANIFEST);
        assertThatThrownBy(() -> ModelArchive.unpack(zip("bare.tlar", noManifest), dir.resolve("b"), extractor))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("not a torchlight archive");

        Map<String, String> hostileManifest = read(archive);
        hostileManifest.put(ModelArchive.MANIFEST, "!!javax.script.ScriptEngineManager []\n");
        assertThatThrownBy(() -> ModelArchive.unpack(zip("tag.tlar", hostileManifest), dir.resolve("c"), extractor))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("bad manifest");

        Map<String, String> slip = read(archive);
        slip.put("../escape.txt", "x");
        assertThatThrownBy(() -> ModelArchive.unpack(zip("slip.tlar", slip), dir.resolve("d"), extractor))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("'..'");
        assertThat(dir.resolve("escape.txt")).doesNotExist();
    }

    @Test
    void aCompressedBombIsRefusedWhileUnpacking() throws IOException {
        Path big = dir.resolve("big.pt");
        Files.write(big, new byte[4 << 20]); // 4 MiB of zeros compresses to a few KiB
        Path archive = ModelArchive.write("m", 1, big, config, dir.resolve("export"));
        assertThat(Files.size(archive)).isLessThan(64 << 10);
        SafeZipExtractor small = new SafeZipExtractor(new ExtractionLimits(100, 1 << 20, 1 << 20));
        Path out = dir.resolve("out");

        assertThatThrownBy(() -> ModelArchive.unpack(archive, out, small)).isInstanceOf(ArchiveException.class);
        assertThat(out).doesNotExist();
    }

    @Test
    void aRepositoryServesArchivesAndUnpacksEachChangeOnce() throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        ModelArchive.write("m", 1, model, config, repo);
        Files.writeString(repo.resolve("junk.tlar"), "not a zip");
        try (ArchiveStore store = new ArchiveStore(dir.resolve("work"), extractor)) {
            ModelRepository repository = new ModelRepository(repo, store);
            List<ModelSource> first = repository.scan(List.of());
            assertThat(first).extracting(ModelSource::name).containsExactly("m");
            assertThat(repository.scan(List.of()).get(0).directory()).isEqualTo(first.get(0).directory());
        }
        assertThat(dir.resolve("work")).doesNotExist();
    }

    private static Map<String, String> read(Path archive) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                try (InputStream in = zip.getInputStream(e)) {
                    entries.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return entries;
    }

    private Path rewrite(Path archive, String name, String content) throws IOException {
        Map<String, String> entries = read(archive);
        entries.put(name, content);
        return zip("tampered.tlar", entries);
    }

    private Path zip(String file, Map<String, String> entries) throws IOException {
        Path out = dir.resolve(file);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return out;
    }
}
