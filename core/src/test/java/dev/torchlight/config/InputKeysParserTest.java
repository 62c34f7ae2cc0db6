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

/** The input keys {@code value_range} and {@code allow_ragged_batch}, and {@code batch_inputs}. */
class InputKeysParserTest {
    /** A DLRM-like model: ragged ids with their offsets, dense features, one score. */
    private static final String MODEL = """
            name: rec
            platform: torchscript
            max_batch_size: 64
            inputs:
              - name: ids
                datatype: INT64
                shape: [-1]
                allow_ragged_batch: true
                value_range: [0, 19999999]
              - name: dense
                datatype: FP32
                shape: [13]
            outputs:
              - name: score
                datatype: FP32
                shape: [1]
            """;
    private static final String OFFSETS = """
            batch_inputs:
              - name: offsets
                kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
                source_input: ids
                datatype: INT64
            """;
    private static final String RAGGED = MODEL + OFFSETS;

    @TempDir
    Path tmp;

    private ModelConfig parse(String yaml) throws IOException {
        return ModelConfigParser.parse(write(yaml), "rec");
    }

    private Path write(String yaml) throws IOException {
        Path file = Files.createDirectories(tmp.resolve("rec")).resolve("config.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThatThrownBy(() -> ModelConfigParser.parse(file, "rec"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void parsesARaggedInputWithAValueRangeAndItsOffsets() throws IOException {
        ModelConfig config = parse(RAGGED);

        TensorSpec ids = config.inputs().get(0);
        assertThat(ids.ragged()).isTrue();
        assertThat(ids.valueRange()).isEqualTo(new ValueRange(0, 19_999_999));
        assertThat(config.inputs().get(1).ragged()).isFalse();
        assertThat(config.inputs().get(1).valueRange()).isNull();
        assertThat(config.batchInputs()).containsExactly(new BatchInput("offsets",
                BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, "ids", DataType.INT64));
        // What forward takes: the declared inputs, the ragged one as 1-D, then the offsets.
        assertThat(config.modelInputs()).extracting(TensorSpec::name).containsExactly("ids", "dense", "offsets");
        assertThat(config.modelInputs().get(0).shape()).containsExactly(-1);
        assertThat(config.modelInputs().get(2).dataType()).isEqualTo(DataType.INT64);
    }

    @Test
    void withoutTheKeysAnInputIsNeitherRaggedNorLimited() throws IOException {
        ModelConfig config = parse(MODEL.replace("    allow_ragged_batch: true\n", "")
                .replace("    value_range: [0, 19999999]\n", ""));

        assertThat(config.inputs()).allSatisfy(s -> {
            assertThat(s.ragged()).isFalse();
            assertThat(s.valueRange()).isNull();
        });
        assertThat(config.batchInputs()).isEmpty();
        assertThat(config.modelInputs()).isEqualTo(config.inputs());
    }

    @Test
    void valueRangeFitsEachIntegerTypeAndMayBeOneValue() throws IOException {
        for (String[] c : new String[][] {{"UINT8", "[0, 255]"}, {"INT8", "[-128, 127]"}, {"INT16", "[-5, -5]"},
                {"INT32", "[-2147483648, 2147483647]"}, {"INT64", "[-9223372036854775808, 9223372036854775807]"}}) {
            ModelConfig config = parse(RAGGED.replace("datatype: INT64\n    shape: [-1]", "datatype: " + c[0]
                    + "\n    shape: [-1]").replace("[0, 19999999]", c[1]));
            ValueRange range = config.inputs().get(0).valueRange();
            assertThat(range.toString()).as(c[0]).isEqualTo(c[1]);
        }
    }

    @Test
    void valueRangeMayGiveEachColumnItsOwnRange() throws IOException {
        ModelConfig config = parse(MODEL.replace("    shape: [-1]\n    allow_ragged_batch: true\n    value_range: [0, 19999999]\n",
                "    shape: [3]\n    value_range: [[0, 99], [0, 9], [-1, 49]]\n"));

        ValueRange range = config.inputs().get(0).valueRange();
        assertThat(range.columns()).isEqualTo(3);
        assertThat(range).isEqualTo(new ValueRange(new long[] {0, 0, -1}, new long[] {99, 9, 49}));
        assertThat(range.toString()).isEqualTo("[[0, 99], [0, 9], [-1, 49]]");
        assertThat(range.contains(4, 9)).isTrue();
        assertThat(range.contains(4, 10)).isFalse();
        assertThat(range.min(5)).isEqualTo(-1);
    }

    @Test
    void aRangePerColumnNeedsAFixedLastDimensionOfThatManyColumns() throws IOException {
        String perColumn = "    value_range: [[0, 99], [0, 9]]\n";
        assertRejected(MODEL.replace("    shape: [-1]\n    allow_ragged_batch: true\n    value_range: [0, 19999999]\n",
                "    shape: [3]\n" + perColumn))
                .hasMessageContaining("key 'inputs[0].value_range'")
                .hasMessageContaining("has 2 ranges, one per column")
                .hasMessageContaining("the shape is [3]");
        assertRejected(MODEL.replace("    value_range: [0, 19999999]\n", perColumn))
                .hasMessageContaining("the input is ragged");
        assertRejected(MODEL.replace("    shape: [-1]\n    allow_ragged_batch: true\n    value_range: [0, 19999999]\n",
                "    shape: [2]\n    value_range: [[0, 99], [9, 0]]\n"))
                .hasMessageContaining("key 'inputs[0].value_range[1]'")
                .hasMessageContaining("got [9, 0]");
        assertRejected(MODEL.replace("    shape: [-1]\n    allow_ragged_batch: true\n    value_range: [0, 19999999]\n",
                "    shape: [2]\n    value_range: [[0, 99], 7]\n"))
                .hasMessageContaining("key 'inputs[0].value_range[1]'");
    }

    @Test
    void valueRangeOnAFloatingPointOrBoolInputIsRefused() throws IOException {
        for (String type : List.of("FP32", "FP16", "BF16", "FP64", "BOOL")) {
            assertRejected(RAGGED.replace("datatype: INT64\n    shape: [-1]", "datatype: " + type + "\n    shape: [-1]"))
                    .hasMessageContaining("key 'inputs[0].value_range'")
                    .hasMessageContaining("applies to integer inputs only")
                    .hasMessageContaining("the datatype is " + type);
        }
    }

    @Test
    void valueRangeMustBeTwoIntegersInOrder() throws IOException {
        for (String bad : List.of("19999999", "[0]", "[0, 1, 2]", "[0, 1.5]", "[a, 3]", "{min: 0, max: 3}")) {
            assertRejected(RAGGED.replace("[0, 19999999]", bad))
                    .as(bad)
                    .hasMessageContaining("key 'inputs[0].value_range'")
                    .hasMessageContaining("expected [min, max] (two integers with min <= max");
        }
        assertRejected(RAGGED.replace("[0, 19999999]", "[10, 9]"))
                .hasMessageContaining("key 'inputs[0].value_range'")
                .hasMessageContaining("got [10, 9]");
    }

    @Test
    void valueRangeBeyondTheDatatypeIsRefused() throws IOException {
        assertRejected(RAGGED.replace("datatype: INT64\n    shape: [-1]", "datatype: INT32\n    shape: [-1]")
                .replace("[0, 19999999]", "[0, 3000000000]"))
                .hasMessageContaining("key 'inputs[0].value_range'")
                .hasMessageContaining("within INT32's range [-2147483648, 2147483647]")
                .hasMessageContaining("got [0, 3000000000]");
        assertRejected(RAGGED.replace("datatype: INT64\n    shape: [-1]", "datatype: UINT8\n    shape: [-1]")
                .replace("[0, 19999999]", "[-1, 10]"))
                .hasMessageContaining("within UINT8's range [0, 255]");
        // Beyond a long: YAML reads a BigInteger, which no datatype holds.
        assertRejected(RAGGED.replace("[0, 19999999]", "[0, 99999999999999999999]"))
                .hasMessageContaining("key 'inputs[0].value_range'")
                .hasMessageContaining("expected [min, max]");
    }

    @Test
    void inputKeysOnAnOutputAreRefused() throws IOException {
        assertRejected(RAGGED.replace("    shape: [1]\n", "    shape: [1]\n    value_range: [0, 1]\n"))
                .hasMessageContaining("key 'outputs[0].value_range'")
                .hasMessageContaining("applies to inputs only");
        assertRejected(RAGGED.replace("    shape: [1]\n", "    shape: [1]\n    allow_ragged_batch: true\n"))
                .hasMessageContaining("key 'outputs[0].allow_ragged_batch'")
                .hasMessageContaining("applies to inputs only");
    }

    @Test
    void aRaggedInputNeedsShapeMinusOneAndABatchDimension() throws IOException {
        assertRejected(RAGGED.replace("shape: [-1]\n    allow", "shape: [-1, 4]\n    allow"))
                .hasMessageContaining("key 'inputs[0].allow_ragged_batch'")
                .hasMessageContaining("needs shape [-1]")
                .hasMessageContaining("[-1, 4]");
        assertRejected(MODEL.replace("max_batch_size: 64", "max_batch_size: 0"))
                .hasMessageContaining("key 'inputs[0].allow_ragged_batch'")
                .hasMessageContaining("needs max_batch_size of at least 1");
        assertRejected(RAGGED.replace("allow_ragged_batch: true", "allow_ragged_batch: yes please"))
                .hasMessageContaining("key 'inputs[0].allow_ragged_batch'")
                .hasMessageContaining("expected true or false");
    }

    @Test
    void batchInputsAreCheckedKeyByKey() throws IOException {
        assertRejected(RAGGED.replace("kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO", "kind: BATCH_OFFSETS"))
                .hasMessageContaining("key 'batch_inputs[0].kind'")
                .hasMessageContaining("BATCH_ELEMENT_COUNT, BATCH_ACCUMULATED_ELEMENT_COUNT,"
                        + " BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO")
                .hasMessageContaining("'BATCH_OFFSETS'");
        assertRejected(RAGGED.replace("source_input: ids", "source_input: tokens"))
                .hasMessageContaining("key 'batch_inputs[0].source_input'")
                .hasMessageContaining("[ids, dense]")
                .hasMessageContaining("'tokens'");
        assertRejected(MODEL + OFFSETS.replace("INT64", "FP32"))
                .hasMessageContaining("key 'batch_inputs[0].datatype'")
                .hasMessageContaining("expected INT32 or INT64");
        assertRejected(MODEL + OFFSETS.replace("name: offsets", "name: dense"))
                .hasMessageContaining("key 'batch_inputs[0].name'")
                .hasMessageContaining("a name used by no input and no other batch input");
        assertRejected(RAGGED.replace("    source_input: ids\n", ""))
                .hasMessageContaining("key 'batch_inputs[0].source_input'")
                .hasMessageContaining("required key is missing");
        assertRejected(MODEL + OFFSETS + "    dims: [1]\n")
                .hasMessageContaining("key 'batch_inputs[0].dims'")
                .hasMessageContaining("unknown key");
    }

    @Test
    void batchInputsNeedABatchDimension() throws IOException {
        assertRejected(RAGGED.replace("max_batch_size: 64", "max_batch_size: 0")
                .replace("    allow_ragged_batch: true\n", ""))
                .hasMessageContaining("key 'batch_inputs'")
                .hasMessageContaining("needs max_batch_size of at least 1");
    }
}
