package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelLifecycleParserTest {
    private static final String VALID = """
            name: m
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: x, datatype: FP32, shape: [2]}
            outputs:
              - {name: y, datatype: FP32, shape: [2]}
            """;

    @TempDir
    Path tmp;

    private ModelLifecycle parse(String extra) throws IOException {
        Path file = Files.createDirectories(tmp.resolve("m")).resolve("config.yaml");
        Files.writeString(file, VALID + extra);
        return ModelLifecycleParser.parse(file, ModelConfigParser.parse(file, "m"));
    }

    private static TreeSet<Long> versions(long... v) {
        TreeSet<Long> set = new TreeSet<>();
        for (long x : v) {
            set.add(x);
        }
        return set;
    }

    @Test
    void everyVersionByDefault() throws IOException {
        ModelLifecycle lifecycle = parse("");
        assertThat(lifecycle.versionPolicy()).isEqualTo(new VersionPolicy.All());
        assertThat(lifecycle.warmup()).isEmpty();
    }

    @Test
    void versionPolicies() throws IOException {
        assertThat(parse("version_policy: {latest: 2}\n").versionPolicy().select(versions(1, 2, 3)))
                .containsExactly(2L, 3L);
        assertThat(parse("version_policy: {all: {}}\n").versionPolicy().select(versions(1, 2, 3)))
                .containsExactly(1L, 2L, 3L);
        assertThat(parse("version_policy: {specific: [1, 3, 7]}\n").versionPolicy().select(versions(1, 2, 3)))
                .containsExactly(1L, 3L);
        assertThat(parse("version_policy: {specific: [2]}\n").versionPolicy())
                .isEqualTo(new VersionPolicy.Specific(Set.of(2L)));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "version_policy: {latest: 0}",
        "version_policy: {newest: 1}",
        "version_policy: {latest: 1, all: {}}",
        "version_policy: latest",
        "version_policy: {specific: []}",
        "version_policy: {specific: [0]}"
    })
    void badVersionPoliciesNameTheKey(String yaml) {
        assertThatThrownBy(() -> parse(yaml + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("config.yaml")
                .hasMessageContaining("version_policy");
    }

    @Test
    void warmupSamplesNameFilesInsideTheModelFolder() throws IOException {
        ModelLifecycle lifecycle = parse("warmup:\n  - x: {shape: [3, 2], file: warmup/x.bin}\n");
        WarmupSample.Input input = lifecycle.warmup().get(0).inputs().get(0);
        assertThat(input.shape()).containsExactly(3, 2);
        assertThat(input.file()).isEqualTo(tmp.resolve("m/warmup/x.bin").toAbsolutePath());

        assertThatThrownBy(() -> parse("warmup:\n  - x: {shape: [1, 2], file: ../../etc/passwd}\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("inside the model folder");
        assertThatThrownBy(() -> parse("warmup:\n  - x: {shape: [9, 2], file: x.bin}\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("batch dimension from 1 to 4");
        assertThatThrownBy(() -> parse("warmup:\n  - z: {shape: [1, 2], file: x.bin}\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown key");
    }

    /** The YAML loader builds plain maps and lists only: a global tag naming a Java class is refused. */
    @Test
    void javaTypeTagsAreRefused() throws IOException {
        Path file = Files.createDirectories(tmp.resolve("m")).resolve("config.yaml");
        Files.writeString(file, VALID + """
                warmup: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["http://127.0.0.1:1/"]]]]
                """);
        assertThatThrownBy(() -> ModelConfigParser.parse(file, "m"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid YAML")
                .hasMessageContaining("javax.script.ScriptEngineManager");
    }
}
