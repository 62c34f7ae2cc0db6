package dev.torchlight.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    @TempDir
    Path repo;

    private void version(String model, String version) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(model).resolve(version));
        Files.writeString(dir.resolve(ModelSource.MODEL_FILE), "model");
    }

    @BeforeEach
    void layout() throws IOException {
        version("mlp", "1");
        version("mlp", "2");
        version("mlp", "10");
        Files.writeString(repo.resolve("mlp").resolve(ModelSource.CONFIG_FILE), "name: mlp\n");
        Files.createDirectories(repo.resolve("mlp").resolve("v3"));
        Files.createDirectories(repo.resolve("mlp").resolve("0"));
        Files.createDirectories(repo.resolve("mlp").resolve("02"));
        Files.createDirectories(repo.resolve("mlp").resolve("-4"));
        Files.createDirectories(repo.resolve("mlp").resolve("4a"));
        Files.createDirectories(repo.resolve("mlp").resolve("99999999999999999999"));
        Files.writeString(repo.resolve("mlp").resolve("7"), "a file, not a folder");
        version("resnet", "3");
        Files.createDirectories(repo.resolve("empty"));
        version(".git", "1");
        Files.createDirectories(repo.resolve(".cache"));
        Files.writeString(repo.resolve("README.md"), "not a model");
    }

    @Test
    void scansModelFoldersSortedByName() {
        List<ModelSource> sources = new ModelRepository(repo).scan(List.of());

        assertThat(sources).extracting(ModelSource::name).containsExactly("empty", "mlp", "resnet");
        assertThat(sources).extracting(ModelSource::directory)
                .containsExactly(repo.resolve("empty"), repo.resolve("mlp"), repo.resolve("resnet"));
    }

    @Test
    void integerVersionsSortedNumericallyIgnoringOtherFolders() {
        ModelSource mlp = new ModelRepository(repo).source("mlp");

        assertThat(mlp.versions().keySet()).containsExactly(1L, 2L, 10L);
        assertThat(mlp.versions().get(10L)).isEqualTo(repo.resolve("mlp").resolve("10").resolve("model.pt"));
        assertThat(mlp.configFile()).isEqualTo(repo.resolve("mlp").resolve("config.yaml"));
    }

    @Test
    void modelWithoutVersionsIsListedWithNone() {
        ModelSource empty = new ModelRepository(repo).source("empty");
        assertThat(empty.versions()).isEmpty();
    }

    @Test
    void versionsAreUnmodifiable() {
        ModelSource mlp = new ModelRepository(repo).source("mlp");
        assertThatThrownBy(() -> mlp.versions().put(5L, repo)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void filterKeepsOnlyNamedModels() {
        List<ModelSource> sources = new ModelRepository(repo).scan(List.of("resnet"));

        assertThat(sources).extracting(ModelSource::name).containsExactly("resnet");
        assertThat(sources.get(0).versions().keySet()).containsExactly(3L);
    }

    @Test
    void filterNamingAMissingModelListsWhatExists() {
        assertThatThrownBy(() -> new ModelRepository(repo).scan(List.of("mlp", "bert")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("[bert] not found")
                .hasMessageContaining(repo.toAbsolutePath().toString())
                .hasMessageContaining("[empty, mlp, resnet]");
    }

    @Test
    void hiddenFoldersCannotBeSelected() {
        assertThatThrownBy(() -> new ModelRepository(repo).scan(List.of(".git")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("[.git] not found");
    }

    @Test
    void missingRepository() {
        Path missing = repo.resolve("nope");
        assertThatThrownBy(() -> new ModelRepository(missing).scan(List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(missing.toAbsolutePath().toString())
                .hasMessageContaining("not a directory");
    }

    @Test
    void repositoryThatIsAFile() {
        Path file = repo.resolve("README.md");
        assertThatThrownBy(() -> new ModelRepository(file).scan(List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not a directory");
    }

    @Test
    void aSingleModelFolderIsOneModelUnderTheGivenNameWhateverItsConfigSays() {
        ModelRepository single = ModelRepository.singleModel(repo.resolve("mlp"), "scorer");
        List<ModelSource> sources = single.scan(List.of());

        assertThat(sources).hasSize(1);
        ModelSource scorer = sources.get(0);
        assertThat(scorer.name()).isEqualTo("scorer");
        assertThat(scorer.configName()).as("checked against the config's own name").isEqualTo("mlp");
        assertThat(scorer.versions().keySet()).containsExactly(1L, 2L, 10L);
        assertThat(single.source("scorer")).isEqualTo(scorer);
    }

    @Test
    void aBareModelFileInASingleModelFolderIsVersionOne() throws IOException {
        Path dir = Files.createDirectories(repo.resolve("bare"));
        Files.writeString(dir.resolve(ModelSource.CONFIG_FILE), "name: whatever\n");
        Files.writeString(dir.resolve(ModelSource.PACKAGE_FILE), "package");

        ModelSource bare = ModelRepository.singleModel(dir, "bare").scan(List.of()).get(0);
        assertThat(bare.versions()).containsExactly(java.util.Map.entry(1L, dir.resolve(ModelSource.PACKAGE_FILE)));
        assertThat(bare.configName()).isEqualTo("whatever");
    }

    @Test
    void aMissingSingleModelFolderIsAClearError() {
        assertThatThrownBy(() -> ModelRepository.singleModel(repo.resolve("gone"), "gone").scan(List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not a directory")
                .hasMessageContaining("config.yaml");
    }

    @Test
    void onlyFoldersThatLookLikeVersionsAreWarnedAbout() {
        assertThat(List.of("007", "0", "v2", "V10", "1.0", "2_1", "12345678901234567890"))
                .allMatch(ModelRepository::looksLikeVersion);
        assertThat(List.of("warmup", "handlers", "extra", "b1", "version"))
                .noneMatch(ModelRepository::looksLikeVersion);
    }
}
