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
                List.of(new TensorSpec("y", DataType.FP32, new long[] {3})), null, List.of(), EngineSettings.DEFAULT, HandlerSpec.TENSOR));
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
        // Found by fuzzing: the YAML library throws IllegalArgumentException for this tag.
        assertRejected("!n%a").hasMessageContaining("not valid YAML");
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
                .hasMessageContaining("[allow_ragged_batch, datatype, name, shape, value_range]");
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
                .hasMessageContaining("expected 'torchscript' or 'aoti'")
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

    // ---- dynamic_batching, instance_group, intra_op_threads ----

    private ModelConfig parseValid(String extra) throws IOException {
        return ModelConfigParser.parse(write("adder", VALID + extra), "adder");
    }

    @Test
    void withoutTheNewKeysThereIsNoBatchingOneCpuInstanceAndAutomaticThreads() throws IOException {
        ModelConfig config = parseValid("");

        assertThat(config.dynamicBatching()).isNull();
        assertThat(config.instanceGroups()).containsExactly(InstanceGroup.oneCpu());
        assertThat(config.engine().intraOpThreads()).isZero();
    }

    @Test
    void emptyDynamicBatchingMeansBatchingWithTheDefaults() throws IOException {
        DynamicBatching b = parseValid("dynamic_batching: {}\n").dynamicBatching();

        assertThat(b).isEqualTo(new DynamicBatching(ModelConfigParser.DEFAULT_MAX_QUEUE_DELAY_US, List.of(), 0, 0, 0, 0));
        assertThat(b.maxQueueDelayMicros()).isEqualTo(1000);
        assertThat(b.levels()).isEqualTo(1);
        assertThat(b.defaultLevel()).isEqualTo(1);
    }

    @Test
    void everyDynamicBatchingKey() throws IOException {
        DynamicBatching b = parseValid("""
                dynamic_batching:
                  max_queue_delay_us: 250
                  preferred_batch_sizes: [2, 4, 8]
                  max_queue_size: 100
                  default_timeout_ms: 30
                  priority_levels: 3
                  default_priority_level: 2
                """).dynamicBatching();

        assertThat(b).isEqualTo(new DynamicBatching(250, List.of(2, 4, 8), 100, 30, 3, 2));
        assertThat(b.levels()).isEqualTo(3);
        assertThat(b.defaultLevel()).isEqualTo(2);
    }

    @Test
    void aLatencyTargetMakesTheDelayAnUpperBoundThatDefaultsToTheTarget() throws IOException {
        DynamicBatching b = parseValid("dynamic_batching: {latency_target_ms: 2.5}\n").dynamicBatching();

        assertThat(b.hasLatencyTarget()).isTrue();
        assertThat(b.latencyTargetMicros()).isEqualTo(2500);
        assertThat(b.maxQueueDelayMicros()).as("no wait beyond the target").isEqualTo(2500);
        assertThat(b.latencyPolicy()).isEqualTo(DynamicBatching.LatencyPolicy.LEARNED);

        DynamicBatching aimd = parseValid("""
                dynamic_batching:
                  latency_target_ms: 10
                  latency_policy: aimd
                  max_queue_delay_us: 500
                """).dynamicBatching();
        assertThat(aimd.latencyTargetMicros()).isEqualTo(10_000);
        assertThat(aimd.maxQueueDelayMicros()).isEqualTo(500);
        assertThat(aimd.latencyPolicy()).isEqualTo(DynamicBatching.LatencyPolicy.AIMD);
        assertThat(parseValid("dynamic_batching: {}\n").dynamicBatching().hasLatencyTarget()).isFalse();
    }

    @Test
    void badLatencyTargetsAndPoliciesAreNamed() throws IOException {
        for (String bad : List.of("0", "-1", "fast", "120000", "[5]")) {
            assertRejected(VALID + "dynamic_batching: {latency_target_ms: " + bad + "}\n")
                    .hasMessageContaining("dynamic_batching.latency_target_ms")
                    .hasMessageContaining("a number of milliseconds from 0.01 to 60000");
        }
        assertRejected(VALID + "dynamic_batching: {latency_target_ms: 5, latency_policy: magic}\n")
                .hasMessageContaining("dynamic_batching.latency_policy")
                .hasMessageContaining("learned or aimd");
        assertRejected(VALID + "dynamic_batching: {latency_policy: aimd}\n")
                .hasMessageContaining("dynamic_batching.latency_policy")
                .hasMessageContaining("without latency_target_ms");
    }

    @Test
    void zeroDelayAndDefaultLevelZeroAreAccepted() throws IOException {
        DynamicBatching b = parseValid("""
                dynamic_batching:
                  max_queue_delay_us: 0
                  priority_levels: 2
                  default_priority_level: 0
                """).dynamicBatching();

        assertThat(b.maxQueueDelayMicros()).isZero();
        assertThat(b.defaultLevel()).as("0 = the lowest level").isEqualTo(2);
    }

    @Test
    void dynamicBatchingWithoutAValueIsAnErrorThatShowsTheEmptyMapping() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n")
                .hasMessageContaining("key 'dynamic_batching'")
                .hasMessageContaining("dynamic_batching: {}")
                .hasMessageContaining("got nothing");
    }

    @Test
    void dynamicBatchingNotAMapping() throws IOException {
        assertRejected(VALID + "dynamic_batching: true\n")
                .hasMessageContaining("key 'dynamic_batching'")
                .hasMessageContaining("expected a mapping");
    }

    @Test
    void dynamicBatchingNeedsABatchDimension() throws IOException {
        assertRejected(VALID.replace("max_batch_size: 8", "max_batch_size: 0") + "dynamic_batching: {}\n")
                .hasMessageContaining("key 'dynamic_batching'")
                .hasMessageContaining("max_batch_size")
                .hasMessageContaining("cannot be batched");
    }

    @Test
    void unknownDynamicBatchingKeyNamesItsPath() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n  max_queue_delay_usec: 100\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_delay_usec'")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("max_queue_delay_us");
    }

    @Test
    void maxQueueDelayMustBeANonNegativeIntegerUpToAMinute() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n  max_queue_delay_us: -1\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_delay_us'")
                .hasMessageContaining("expected an integer from 0 to 60000000 (microseconds)")
                .hasMessageContaining("-1");
        assertRejected(VALID + "dynamic_batching:\n  max_queue_delay_us: 1.5\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_delay_us'")
                .hasMessageContaining("got double 1.5");
        assertRejected(VALID + "dynamic_batching:\n  max_queue_delay_us: 60000001\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_delay_us'");
        assertRejected(VALID + "dynamic_batching:\n  max_queue_delay_us:\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_delay_us'")
                .hasMessageContaining("got nothing");
    }

    @Test
    void preferredBatchSizesMustBeAscendingWithinMaxBatchSize() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: [2, 16]\n")
                .hasMessageContaining("key 'dynamic_batching.preferred_batch_sizes'")
                .hasMessageContaining("from 1 to max_batch_size (8)")
                .hasMessageContaining("element 1 is integer 16");
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: [0]\n")
                .hasMessageContaining("key 'dynamic_batching.preferred_batch_sizes'")
                .hasMessageContaining("element 0 is integer 0");
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: [4, 2]\n")
                .hasMessageContaining("key 'dynamic_batching.preferred_batch_sizes'")
                .hasMessageContaining("ascending order without duplicates")
                .hasMessageContaining("element 1 (2) follows 4");
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: [2, 2]\n")
                .hasMessageContaining("element 1 (2) follows 2");
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: [two]\n")
                .hasMessageContaining("element 0 is 'two'");
        assertRejected(VALID + "dynamic_batching:\n  preferred_batch_sizes: 4\n")
                .hasMessageContaining("key 'dynamic_batching.preferred_batch_sizes'")
                .hasMessageContaining("expected a list of batch sizes");
    }

    @Test
    void maxQueueSizeAndDefaultTimeoutAreNonNegativeIntegers() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n  max_queue_size: -5\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_size'")
                .hasMessageContaining("(0 = no limit)");
        assertRejected(VALID + "dynamic_batching:\n  max_queue_size: many\n")
                .hasMessageContaining("key 'dynamic_batching.max_queue_size'")
                .hasMessageContaining("'many'");
        assertRejected(VALID + "dynamic_batching:\n  default_timeout_ms: -1\n")
                .hasMessageContaining("key 'dynamic_batching.default_timeout_ms'")
                .hasMessageContaining("(0 = no deadline)");
        assertRejected(VALID + "dynamic_batching:\n  default_timeout_ms: 10000000000\n")
                .hasMessageContaining("key 'dynamic_batching.default_timeout_ms'");
    }

    @Test
    void priorityLevelsAndDefaultLevel() throws IOException {
        assertRejected(VALID + "dynamic_batching:\n  priority_levels: -1\n")
                .hasMessageContaining("key 'dynamic_batching.priority_levels'")
                .hasMessageContaining("from 0 to 100");
        assertRejected(VALID + "dynamic_batching:\n  priority_levels: 101\n")
                .hasMessageContaining("key 'dynamic_batching.priority_levels'");
        assertRejected(VALID + "dynamic_batching:\n  priority_levels: 2\n  default_priority_level: 3\n")
                .hasMessageContaining("key 'dynamic_batching.default_priority_level'")
                .hasMessageContaining("from 0 to 2")
                .hasMessageContaining("priority_levels is 2");
        assertRejected(VALID + "dynamic_batching:\n  default_priority_level: 1\n")
                .hasMessageContaining("key 'dynamic_batching.default_priority_level'")
                .hasMessageContaining("from 0 to 0");
    }

    @Test
    void instanceGroups() throws IOException {
        ModelConfig config = parseValid("""
                instance_group:
                  - count: 2
                    kind: cpu
                  - kind: GPU
                    devices: [1, 0]
                  - {}
                """);

        assertThat(config.instanceGroups()).containsExactly(
                new InstanceGroup(2, InstanceGroup.Kind.CPU, List.of()),
                new InstanceGroup(1, InstanceGroup.Kind.GPU, List.of(1, 0)),
                new InstanceGroup(1, InstanceGroup.Kind.CPU, List.of()));
    }

    @Test
    void gpuWithoutDevicesMeansEveryGpu() throws IOException {
        assertThat(parseValid("instance_group: [{kind: GPU, count: 3}]\n").instanceGroups())
                .containsExactly(new InstanceGroup(3, InstanceGroup.Kind.GPU, List.of()));
    }

    @Test
    void instanceGroupErrors() throws IOException {
        assertRejected(VALID + "instance_group: []\n")
                .hasMessageContaining("key 'instance_group'")
                .hasMessageContaining("at least one");
        assertRejected(VALID + "instance_group:\n")
                .hasMessageContaining("key 'instance_group'")
                .hasMessageContaining("got nothing");
        assertRejected(VALID + "instance_group: {count: 2}\n")
                .hasMessageContaining("key 'instance_group'")
                .hasMessageContaining("got a mapping");
        assertRejected(VALID + "instance_group: [2]\n")
                .hasMessageContaining("key 'instance_group[0]'")
                .hasMessageContaining("expected a mapping");
        assertRejected(VALID + "instance_group: [{count: 1}, {instances: 2}]\n")
                .hasMessageContaining("key 'instance_group[1].instances'")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("[count, devices, kind]");
        assertRejected(VALID + "instance_group: [{count: 0}]\n")
                .hasMessageContaining("key 'instance_group[0].count'")
                .hasMessageContaining("from 1 to 256");
        assertRejected(VALID + "instance_group: [{count: two}]\n")
                .hasMessageContaining("key 'instance_group[0].count'")
                .hasMessageContaining("'two'");
        assertRejected(VALID + "instance_group: [{kind: TPU}]\n")
                .hasMessageContaining("key 'instance_group[0].kind'")
                .hasMessageContaining("expected CPU, GPU or MODEL")
                .hasMessageContaining("'TPU'");
        assertRejected(VALID + "instance_group: [{kind: 1}]\n")
                .hasMessageContaining("key 'instance_group[0].kind'")
                .hasMessageContaining("expected CPU, GPU or MODEL");
    }

    @Test
    void devicesAreDistinctOrdinalsForGpuGroupsOnly() throws IOException {
        assertRejected(VALID + "instance_group: [{devices: [0]}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("only apply to kind GPU")
                .hasMessageContaining("kind is CPU");
        assertRejected(VALID + "instance_group: [{kind: CPU, devices: [0]}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("only apply to kind GPU");
        assertRejected(VALID + "instance_group: [{kind: GPU, devices: [-1]}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("element 0 is integer -1");
        assertRejected(VALID + "instance_group: [{kind: GPU, devices: [0, x]}]\n")
                .hasMessageContaining("element 1 is 'x'");
        assertRejected(VALID + "instance_group: [{kind: GPU, devices: [0, 1, 0]}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("device 0 is listed more than once");
        assertRejected(VALID + "instance_group: [{kind: GPU, devices: []}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("leave devices out");
        assertRejected(VALID + "instance_group: [{kind: GPU, devices: 0}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("got integer 0");
    }

    @Test
    void intraOpThreads() throws IOException {
        assertThat(parseValid("intra_op_threads: 4\n").engine().intraOpThreads()).isEqualTo(4);
        assertThat(parseValid("intra_op_threads: 0\n").engine().intraOpThreads()).isZero();
        assertRejected(VALID + "intra_op_threads: -1\n")
                .hasMessageContaining("key 'intra_op_threads'")
                .hasMessageContaining("from 0 to 1024 (0 = an even share of the cores");
        assertRejected(VALID + "intra_op_threads: auto\n")
                .hasMessageContaining("key 'intra_op_threads'")
                .hasMessageContaining("'auto'");
    }

    @Test
    void freezeIsOnByDefaultAndATorchScriptSetting() throws IOException {
        assertThat(parseValid("").engine().freeze()).isEqualTo(EngineSettings.DEFAULT_FREEZE);
        assertThat(parseValid("freeze: false\n").engine().freeze()).isFalse();
        assertThat(parseValid("freeze: true\n").engine().freeze()).isTrue();
        assertRejected(VALID + "freeze: yes please\n")
                .hasMessageContaining("key 'freeze'")
                .hasMessageContaining("true or false");
        assertRejected(VALID.replace("platform: torchscript", "platform: aoti") + "freeze: false\n")
                .hasMessageContaining("key 'freeze'")
                .hasMessageContaining("TorchScript models only");
    }

    @Test
    void aotiIsAPlatform() throws IOException {
        Path file = write("adder", VALID.replace("platform: torchscript", "platform: aoti"));
        ModelConfig config = ModelConfigParser.parse(file, "adder");

        assertThat(config.aoti()).isTrue();
        assertThat(config.engine().freeze()).as("not applicable, left at the default").isTrue();
    }

    @Test
    void kindModelIsAGroupTheModelPlacesItself() throws IOException {
        ModelConfig config = parseValid("instance_group: [{kind: model, count: 2}]\n");
        assertThat(config.instanceGroups()).containsExactly(new InstanceGroup(2, InstanceGroup.Kind.MODEL, List.of()));
        assertRejected(VALID + "instance_group: [{kind: MODEL, devices: [0]}]\n")
                .hasMessageContaining("key 'instance_group[0].devices'")
                .hasMessageContaining("only apply to kind GPU");
    }

    @Test
    void precisionIsFp32ByDefaultAndATorchScriptSetting() throws IOException {
        assertThat(parseValid("").engine().precision()).isEqualTo(Precision.FP32);
        assertThat(parseValid("precision: fp16\n").engine().precision()).isEqualTo(Precision.FP16);
        assertThat(parseValid("precision: BF16\n").engine().precision()).isEqualTo(Precision.BF16);
        assertRejected(VALID + "precision: fp8\n")
                .hasMessageContaining("key 'precision'")
                .hasMessageContaining("expected fp32, fp16 or bf16")
                .hasMessageContaining("'fp8'");
        assertRejected(VALID + "precision: 16\n")
                .hasMessageContaining("key 'precision'");
        assertRejected(VALID.replace("platform: torchscript", "platform: aoti") + "precision: fp16\n")
                .hasMessageContaining("key 'precision'")
                .hasMessageContaining("TorchScript models only")
                .hasMessageContaining("compiled with");
    }

    @Test
    void gpuSettingsHaveDefaultsAndTakeBooleans() throws IOException {
        assertThat(parseValid("").engine().gpu()).isEqualTo(GpuSettings.DEFAULT);
        assertThat(GpuSettings.DEFAULT).isEqualTo(new GpuSettings(true, false, true));
        assertThat(parseValid("cudnn_benchmark: false\ncuda_graphs: true\npinned_buffers: false\n").engine().gpu())
                .isEqualTo(new GpuSettings(false, true, false));
        for (String key : List.of("cudnn_benchmark", "cuda_graphs", "pinned_buffers")) {
            assertRejected(VALID + key + ": maybe\n")
                    .hasMessageContaining("key '" + key + "'")
                    .hasMessageContaining("true or false");
        }
    }
}
