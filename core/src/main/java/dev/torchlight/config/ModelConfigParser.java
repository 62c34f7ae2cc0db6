package dev.torchlight.config;

import dev.torchlight.api.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads and validates a model's {@code config.yaml}. */
public final class ModelConfigParser {
    /** The only platform this engine serves. */
    public static final String TORCHSCRIPT = "torchscript";

    private static final Set<String> KEYS = Set.of("name", "platform", "max_batch_size", "inputs", "outputs");
    private static final Set<String> TENSOR_KEYS = Set.of("name", "datatype", "shape");

    private ModelConfigParser() {}

    /**
     * Parses {@code file}.
     *
     * @param expectedName the model's directory name, which {@code name} must equal
     * @throws ConfigException naming the file, the key and what was expected
     */
    public static ModelConfig parse(Path file, String expectedName) {
        YamlSection yaml = YamlSection.read(file);
        yaml.rejectUnknownKeys(KEYS);
        String name = yaml.requireString("name");
        if (!name.equals(expectedName)) {
            throw yaml.error("name", "the model directory's name '" + expectedName + "'", name);
        }
        String platform = yaml.requireString("platform");
        if (!platform.equals(TORCHSCRIPT)) {
            throw yaml.error("platform", "'" + TORCHSCRIPT + "'", platform);
        }
        int maxBatchSize = yaml.requireInt("max_batch_size", 0, 1 << 20);
        List<TensorSpec> inputs = tensors(yaml, "inputs");
        List<TensorSpec> outputs = tensors(yaml, "outputs");
        return new ModelConfig(name, platform, maxBatchSize, inputs, outputs);
    }

    private static List<TensorSpec> tensors(YamlSection yaml, String key) {
        List<YamlSection> sections = yaml.requireSections(key);
        if (sections.isEmpty()) {
            throw yaml.error(key, "at least one tensor", "an empty list");
        }
        List<TensorSpec> specs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (YamlSection t : sections) {
            t.rejectUnknownKeys(TENSOR_KEYS);
            String name = t.requireString("name");
            if (!names.add(name)) {
                throw t.error("name", "a name not used by another entry of '" + key + "'", name);
            }
            DataType type;
            try {
                type = DataType.parse(t.requireString("datatype"));
            } catch (IllegalArgumentException e) {
                throw t.error("datatype", "one of " + DataType.names(), t.raw("datatype"));
            }
            specs.add(new TensorSpec(name, type, shape(t)));
        }
        return specs;
    }

    private static long[] shape(YamlSection t) {
        List<Object> dims = t.requireList("shape");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object d = dims.get(i);
            if (!(d instanceof Integer || d instanceof Long) || ((Number) d).longValue() < -1
                    || ((Number) d).longValue() == 0) {
                throw new ConfigException(t.where("shape") + "expected positive integers or -1 (variable), but element "
                        + i + " is " + YamlSection.describe(d));
            }
            shape[i] = ((Number) d).longValue();
        }
        return shape;
    }
}
