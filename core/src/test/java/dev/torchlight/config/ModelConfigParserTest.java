package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigParserTest {
    private static final String VALID = """
            name: adder
            platform: torchscript
            max_batch_size: 8
            inputs:
              - name: x
                datatype: FP32
                shape: [3, -1]
            outputs:
              - name: y
                datatype: FP32
                shape: [3]
            """;

    @TempDir
    Path tmp;

    private Path write(String model, String yaml) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(model));
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String yaml) throws IOException {
        Path file = write("adder", yaml);
        return assertThatThrownBy(() -> ModelConfigParser.parse(file, "adder"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void parsesEveryDatatypeVariableDimsAndBatchSize() throws IOException {
        StringBuilder yaml = new StringBuilder("""
                name: every_type
                platform: torchscript
                max_batch_size: 16
                inputs:
                """);
        for (DataType t : DataType.values()) {
            yaml.append("  - name: in_").append(t).append('\n')
                    .append("    datatype: ").append(t.name()).append('\n')
                    .append("    shape: [2, -1, 4]\n");
        }
        yaml.append("""
                outputs:
                  - name: out
                    datatype: fp64
                    shape: [-1]
                  - name: scalar
                    datatype: INT64
                    shape: []
                """);
        Path file = write("every_type", yaml.toString());

        ModelConfig config = ModelConfigParser.parse(file, "every_type");

        assertThat(config.name()).isEqualTo("every_type");
        assertThat(config.platform()).isEqualTo("torchscript");
        assertThat(config.maxBatchSize()).isEqualTo(16);
        assertThat(config.batched()).isTrue();
        assertThat(config.inputs()).hasSize(DataType.values().length);
        for (int i = 0; i < DataType.values().length; i++) {
            DataType t = DataType.values()[i];
            assertThat(config.inputs().get(i)).isEqualTo(new TensorSpec("in_" + t, t, new long[] {2, -1, 4}));
        }
        assertThat(config.outputs()).containsExactly(
                new TensorSpec("out", DataType.FP64, new long[] {-1}),
                new TensorSpec("scalar", DataType.INT64, new long[] {}));
    }

    @Test
    void maxBatchSizeZeroMeansUnbatched() throws IOException {
        Path file = write("adder", VALID.replace("max_batch_size: 8", "max_batch_size: 0"));

        ModelConfig config = ModelConfigParser.parse(file, "adder");

        assertThat(config).isEqualTo(new ModelConfig("adder", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {3, -1})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {3}))));
        assertThat(config.batched()).isFalse();
    }

    @Test
    void missingFile() {
        Path file = tmp.resolve("adder").resolve("config.yaml");
        assertThatThrownBy(() -> ModelConfigParser.parse(file, "adder"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not found");
    }

    @Test
    void invalidYaml() throws IOException {
        assertRejected("name: adder\ninputs: [unclosed\n").hasMessageContaining("not valid YAML");
    }

    @Test
    void notAMapping() throws IOException {
        assertRejected("- just\n- a list\n").hasMessageContaining("expected a mapping");
    }

    @Test
    void duplicateKeys() throws IOException {
        assertRejected(VALID + "max_batch_size: 4\n")
                .hasMessageContaining("duplicate key")
                .hasMessageContaining("max_batch_size");
    }

    @Test
    void unknownTopLevelKey() throws IOException {
        assertRejected(VALID + "instance_count: 2\n")
                .hasMessageContaining("key 'instance_count'")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("max_batch_size");
    }

    @Test
    void unknownKeyInsideInput() throws IOException {
        assertRejected(VALID.replace("    shape: [3, -1]", "    shape: [3, -1]\n    dims: [3]"))
                .hasMessageContaining("key 'inputs[0].dims'")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("[datatype, name, shape]");
    }

    @Test
    void missingRequiredKey() throws IOException {
        assertRejected(VALID.replace("platform: torchscript\n", ""))
                .hasMessageContaining("key 'platform'")
                .hasMessageContaining("required key is missing");
    }

    @Test
    void nameMustMatchDirectory() throws IOException {
        assertRejected(VALID.replace("name: adder", "name: other"))
                .hasMessageContaining("key 'name'")
                .hasMessageContaining("'adder'")
                .hasMessageContaining("'other'");
    }

    @Test
    void wrongPlatform() throws IOException {
        assertRejected(VALID.replace("platform: torchscript", "platform: onnx"))
                .hasMessageContaining("key 'platform'")
                .hasMessageContaining("expected 'torchscript'")
                .hasMessageContaining("'onnx'");
    }

    @Test
    void maxBatchSizeNotAnInteger() throws IOException {
        assertRejected(VALID.replace("max_batch_size: 8", "max_batch_size: eight"))
                .hasMessageContaining("key 'max_batch_size'")
                .hasMessageContaining("expected an integer")
                .hasMessageContaining("'eight'");
        assertRejected(VALID.replace("max_batch_size: 8", "max_batch_size: 2.5"))
                .hasMessageContaining("key 'max_batch_size'")
                .hasMessageContaining("expected an integer");
    }

    @Test
    void maxBatchSizeNegative() throws IOException {
        assertRejected(VALID.replace("max_batch_size: 8", "max_batch_size: -1"))
                .hasMessageContaining("key 'max_batch_size'")
                .hasMessageContaining("expected an integer from 0")
                .hasMessageContaining("-1");
    }

    @Test
    void badDatatype() throws IOException {
        assertRejected(VALID.replace("datatype: FP32\n    shape: [3, -1]", "datatype: FLOAT\n    shape: [3, -1]"))
                .hasMessageContaining("key 'inputs[0].datatype'")
                .hasMessageContaining(DataType.names())
                .hasMessageContaining("'FLOAT'");
    }

    @Test
    void shapeWithZero() throws IOException {
        assertRejected(VALID.replace("shape: [3, -1]", "shape: [3, 0]"))
                .hasMessageContaining("key 'inputs[0].shape'")
                .hasMessageContaining("expected positive integers or -1")
                .hasMessageContaining("element 1");
    }

    @Test
    void shapeWithString() throws IOException {
        assertRejected(VALID.replace("shape: [3, -1]", "shape: [three, -1]"))
                .hasMessageContaining("key 'inputs[0].shape'")
                .hasMessageContaining("expected positive integers or -1")
                .hasMessageContaining("element 0 is 'three'");
    }

    @Test
    void shapeBelowMinusOne() throws IOException {
        assertRejected(VALID.replace("shape: [3]", "shape: [-2]"))
                .hasMessageContaining("key 'outputs[0].shape'")
                .hasMessageContaining("element 0");
    }

    @Test
    void shapeNotAList() throws IOException {
        assertRejected(VALID.replace("shape: [3, -1]", "shape: 3"))
                .hasMessageContaining("key 'inputs[0].shape'")
                .hasMessageContaining("expected a list");
    }

    @Test
    void duplicateInputNames() throws IOException {
        assertRejected(VALID.replace("outputs:", """
                  - name: x
                    datatype: INT64
                    shape: [1]
                outputs:"""))
                .hasMessageContaining("key 'inputs[1].name'")
                .hasMessageContaining("not used by another entry of 'inputs'")
                .hasMessageContaining("'x'");
    }

    @Test
    void emptyInputs() throws IOException {
        assertRejected(VALID.replaceAll("(?s)inputs:.*outputs:", "inputs: []\noutputs:"))
                .hasMessageContaining("key 'inputs'")
                .hasMessageContaining("at least one tensor");
    }

    @Test
    void inputEntryNotAMapping() throws IOException {
        assertRejected(VALID.replaceAll("(?s)inputs:.*outputs:", "inputs: [x]\noutputs:"))
                .hasMessageContaining("key 'inputs[0]'")
                .hasMessageContaining("expected a mapping");
    }

    @Test
    void javaTypeTagIsRejectedNotConstructed() throws IOException {
        assertRejected(VALID.replace("name: adder", "name: !!java.lang.ProcessBuilder [touch, pwned]"))
                .hasMessageContaining("not valid YAML")
                .hasMessageContaining("java.lang.ProcessBuilder");
        assertThat(tmp.resolve("pwned")).doesNotExist();
    }

    @Test
    void pythonObjectTagIsRejected() throws IOException {
        assertRejected(VALID + "extra: !!python/object/apply:os.system [echo hi]\n")
                .hasMessageContaining("not valid YAML")
                .hasMessageContaining("python/object");
    }

    @Test
    void localCustomTagIsRejected() throws IOException {
        assertRejected(VALID.replace("platform: torchscript", "platform: !torch torchscript"))
                .hasMessageContaining("not valid YAML")
                .hasMessageContaining("!torch");
    }
}
