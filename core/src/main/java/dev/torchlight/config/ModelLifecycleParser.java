package dev.torchlight.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the lifecycle keys of a model's {@code config.yaml}, beside {@link ModelConfigParser}
 * (which validates the rest and knows these keys exist):
 *
 * <pre>
 * version_policy: {latest: 2}        # or {all: {}} or {specific: [1, 3]}; default: all
 * warmup:                            # optional; default: generated inputs
 *   - input: {shape: [1, 256], file: warmup/input.bin}   # raw little-endian elements
 * </pre>
 */
public final class ModelLifecycleParser {
    static final String VERSION_POLICY = "version_policy";
    static final String WARMUP = "warmup";
    private static final int MAX_LATEST = 1_000_000;

    private ModelLifecycleParser() {}

    /**
     * @param config the model's already validated config, for the declared inputs
     * @throws ConfigException naming the file and key
     */
    public static ModelLifecycle parse(Path file, ModelConfig config) {
        YamlSection yaml = YamlSection.read(file);
        VersionPolicy policy = yaml.keys().contains(VERSION_POLICY) ? versionPolicy(yaml) : VersionPolicy.all();
        List<WarmupSample> warmup = yaml.keys().contains(WARMUP)
                ? warmup(yaml, config, file.toAbsolutePath().getParent()) : List.of();
        return new ModelLifecycle(policy, warmup);
    }

    private static VersionPolicy versionPolicy(YamlSection yaml) {
        String expected = "one of {latest: N}, {all: {}} or {specific: [versions]}";
        if (!(yaml.raw(VERSION_POLICY) instanceof java.util.Map<?, ?> map) || map.size() != 1) {
            throw yaml.error(VERSION_POLICY, expected, yaml.raw(VERSION_POLICY));
        }
        YamlSection p = yaml.requireSection(VERSION_POLICY);
        p.rejectUnknownKeys(Set.of("latest", "all", "specific"));
        if (p.keys().contains("latest")) {
            return new VersionPolicy.Latest(p.requireInt("latest", 1, MAX_LATEST));
        }
        if (p.keys().contains("all")) {
            Object all = p.raw("all");
            if (all != null && !(all instanceof java.util.Map<?, ?> m && m.isEmpty())) {
                throw p.error("all", "{} (no options)", all);
            }
            return new VersionPolicy.All();
        }
        List<Object> list = p.requireList("specific");
        Set<Long> versions = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < 1) {
                throw new ConfigException(p.where("specific") + "expected positive version numbers, but element " + i
                        + " is " + YamlSection.describe(v));
            }
            versions.add(((Number) v).longValue());
        }
        if (versions.isEmpty()) {
            throw p.error("specific", "at least one version", "an empty list");
        }
        return new VersionPolicy.Specific(versions);
    }

    private static List<WarmupSample> warmup(YamlSection yaml, ModelConfig config, Path modelDir) {
        List<WarmupSample> samples = new ArrayList<>();
        for (YamlSection sample : yaml.requireSections(WARMUP)) {
            Set<String> declared = new HashSet<>();
            config.inputs().forEach(s -> declared.add(s.name()));
            sample.rejectUnknownKeys(declared);
            List<WarmupSample.Input> inputs = new ArrayList<>();
            for (TensorSpec spec : config.inputs()) {
                YamlSection t = sample.requireSection(spec.name());
                t.rejectUnknownKeys(Set.of("shape", "file"));
                long[] shape = shape(t);
                int from = config.batched() ? 1 : 0;
                if (!spec.accepts(shape, from) || (config.batched() && (shape[0] < 1 || shape[0] > config.maxBatchSize()))) {
                    throw new ConfigException(t.where("shape") + "does not fit input '" + spec.name() + "'"
                            + (config.batched() ? " with a batch dimension from 1 to " + config.maxBatchSize() : ""));
                }
                Path file = modelDir.resolve(t.requireString("file")).normalize();
                if (!file.startsWith(modelDir)) {
                    throw t.error("file", "a path inside the model folder " + modelDir, t.raw("file"));
                }
                inputs.add(new WarmupSample.Input(spec.name(), spec.dataType(), shape, file));
            }
            samples.add(new WarmupSample(inputs));
        }
        return samples;
    }

    private static long[] shape(YamlSection t) {
        List<Object> dims = t.requireList("shape");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object d = dims.get(i);
            if (!(d instanceof Integer || d instanceof Long) || ((Number) d).longValue() < 1) {
                throw new ConfigException(t.where("shape") + "expected positive integers, but element " + i + " is "
                        + YamlSection.describe(d));
            }
            shape[i] = ((Number) d).longValue();
        }
        return shape;
    }
}
