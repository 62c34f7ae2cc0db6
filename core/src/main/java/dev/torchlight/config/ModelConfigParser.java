package dev.torchlight.config;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads and validates a model's {@code config.yaml}: {@code name}, {@code platform},
 * {@code max_batch_size}, {@code inputs}, {@code outputs}, and the optional
 * {@code dynamic_batching} (absent: no batching; {@code {}}: batching with the defaults, which
 * needs {@code max_batch_size >= 1}), {@code instance_group} (absent: one CPU instance) and
 * {@code intra_op_threads} (absent or 0: the engine's choice), {@code freeze} (TorchScript only; absent:
 * {@link EngineSettings#DEFAULT_FREEZE}), {@code precision} (TorchScript only; absent: fp32), the GPU
 * settings {@code cudnn_benchmark}, {@code cuda_graphs} and {@code pinned_buffers} (absent:
 * {@link GpuSettings#DEFAULT}) and {@code handler} (absent:
 * {@code tensor}; {@code image_classifier} with its {@code image} and {@code topk}; or a custom
 * handler {@code {class, jar}}) and {@code batch_inputs} (absent: none; offsets the server makes for
 * ragged inputs, see {@link BatchInput}). An input may also have {@code value_range: [min, max]}
 * (integer datatypes; every element of a request must lie in it; or one range per column) and
 * {@code allow_ragged_batch} (shape {@code [-1]}; requests of different lengths share a batch). Unknown keys, wrong types and values
 * out of range are errors naming the file and the key path, e.g. {@code dynamic_batching.max_queue_size}.
 */
public final class ModelConfigParser {
    /** TorchScript ({@code model.pt}, saved with {@code torch.jit.save}). */
    public static final String TORCHSCRIPT = "torchscript";
    /** An AOTInductor package ({@code model.pt2}, from {@code torch._inductor.aoti_compile_and_package}). */
    public static final String AOTI = "aoti";

    /** {@code dynamic_batching.max_queue_delay_us} when not given: 1 ms. */
    public static final long DEFAULT_MAX_QUEUE_DELAY_US = 1_000;
    /** Upper bound of {@code dynamic_batching.max_queue_delay_us}: one minute. */
    public static final long MAX_QUEUE_DELAY_US = 60_000_000;
    /** Upper bound of {@code dynamic_batching.latency_target_ms}: one minute. */
    public static final double MAX_LATENCY_TARGET_MS = 60_000;
    /** Upper bound of {@code dynamic_batching.priority_levels}. */
    public static final int MAX_PRIORITY_LEVELS = 100;
    /** Upper bound of {@code instance_group[i].count}. */
    public static final int MAX_INSTANCES_PER_GROUP = 256;
    /** Upper bound of {@code intra_op_threads} and of a GPU device ordinal. */
    public static final int MAX_THREADS = 1024;

    private static final Set<String> KEYS = Set.of("name", "platform", "max_batch_size", "inputs", "outputs",
            "dynamic_batching", "instance_group", "intra_op_threads", "freeze", "precision", "cudnn_benchmark",
            "cuda_graphs", "pinned_buffers", "batch_inputs",
            // Read by ModelLifecycleParser.
            ModelLifecycleParser.VERSION_POLICY, ModelLifecycleParser.WARMUP,
            // Read by the handler stage.
            "handler", "topk", "image");
    private static final Set<String> TENSOR_KEYS = Set.of("name", "datatype", "shape");
    /** Keys that only an input may have. */
    private static final Set<String> INPUT_KEYS = Set.of("name", "datatype", "shape", "value_range",
            "allow_ragged_batch");
    private static final Set<String> BATCH_INPUT_KEYS = Set.of("name", "kind", "source_input", "datatype");
    private static final Set<String> BATCHING_KEYS = Set.of("max_queue_delay_us", "preferred_batch_sizes",
            "max_queue_size", "default_timeout_ms", "priority_levels", "default_priority_level", "latency_target_ms",
            "latency_policy");
    private static final Set<String> GROUP_KEYS = Set.of("count", "kind", "devices");
    private static final String KINDS = "CPU, GPU or MODEL (the model places itself, e.g. across GPUs)";

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
        if (!platform.equals(TORCHSCRIPT) && !platform.equals(AOTI)) {
            throw yaml.error("platform", "'" + TORCHSCRIPT + "' or '" + AOTI + "'", platform);
        }
        int maxBatchSize = yaml.requireInt("max_batch_size", 0, 1 << 20);
        List<TensorSpec> inputs = tensors(yaml, "inputs", maxBatchSize);
        List<TensorSpec> outputs = tensors(yaml, "outputs", maxBatchSize);
        List<BatchInput> batchInputs = batchInputs(yaml, maxBatchSize, inputs);
        DynamicBatching batching = dynamicBatching(yaml, maxBatchSize);
        List<InstanceGroup> groups = instanceGroups(yaml);
        int intraOpThreads = optInt(yaml, "intra_op_threads", 0, MAX_THREADS, 0, " (0 = an even share of the cores among all instances of all models)");
        boolean freeze = torchScriptOnly(yaml, platform, "freeze", "is optimized when it is compiled")
                ? optBoolean(yaml, "freeze", EngineSettings.DEFAULT_FREEZE) : EngineSettings.DEFAULT_FREEZE;
        Precision precision = torchScriptOnly(yaml, platform, "precision", "computes in the types it was compiled"
                + " with") ? precision(yaml) : Precision.FP32;
        GpuSettings gpu = new GpuSettings(
                optBoolean(yaml, "cudnn_benchmark", GpuSettings.DEFAULT.cudnnBenchmark()),
                optBoolean(yaml, "cuda_graphs", GpuSettings.DEFAULT.cudaGraphs()),
                optBoolean(yaml, "pinned_buffers", GpuSettings.DEFAULT.pinnedBuffers()));
        HandlerSpec handler = HandlerSpecParser.parse(yaml, maxBatchSize, inputs, outputs);
        return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, batching, groups,
                new EngineSettings(intraOpThreads, freeze, precision, gpu), handler, batchInputs);
    }

    /**
     * Whether {@code key}, a TorchScript setting, is given; an error for an AOTInductor package, which
     * {@code why}.
     */
    private static boolean torchScriptOnly(YamlSection yaml, String platform, String key, String why) {
        if (!yaml.keys().contains(key)) {
            return false;
        }
        if (platform.equals(AOTI)) {
            throw new ConfigException(yaml.where(key) + "applies to TorchScript models only; an AOTInductor"
                    + " package (platform 'aoti') " + why);
        }
        return true;
    }

    private static boolean optBoolean(YamlSection yaml, String key, boolean fallback) {
        if (!yaml.keys().contains(key)) {
            return fallback;
        }
        if (!(yaml.raw(key) instanceof Boolean on)) {
            throw yaml.error(key, "true or false", yaml.raw(key));
        }
        return on;
    }

    /** {@code precision}: fp32, fp16 or bf16. */
    private static Precision precision(YamlSection yaml) {
        Object raw = yaml.raw("precision");
        String expected = "fp32, fp16 or bf16";
        if (!(raw instanceof String p)) {
            throw yaml.error("precision", expected, raw);
        }
        for (Precision candidate : Precision.values()) {
            if (candidate.key().equals(p.strip().toLowerCase(Locale.ROOT))) {
                return candidate;
            }
        }
        throw yaml.error("precision", expected, raw);
    }

    /** {@code dynamic_batching}: absent is null (no batching); {@code {}} is batching with the defaults. */
    private static DynamicBatching dynamicBatching(YamlSection yaml, int maxBatchSize) {
        String key = "dynamic_batching";
        if (!yaml.keys().contains(key)) {
            return null;
        }
        if (yaml.raw(key) == null) {
            throw yaml.error(key, "a mapping (write 'dynamic_batching: {}' for batching with the defaults)", null);
        }
        YamlSection b = yaml.requireSection(key);
        b.rejectUnknownKeys(BATCHING_KEYS);
        if (maxBatchSize == 0) {
            throw new ConfigException(yaml.where(key) + "needs max_batch_size of at least 1; with max_batch_size 0"
                    + " the model takes no batch dimension, so its requests cannot be batched"
                    + " (remove dynamic_batching or set max_batch_size)");
        }
        long target = latencyTargetMicros(b);
        // With a target, the delay is only an upper bound on any wait, and by default the target itself.
        long delay = optLong(b, "max_queue_delay_us", 0, MAX_QUEUE_DELAY_US,
                target > 0 ? target : DEFAULT_MAX_QUEUE_DELAY_US, " (microseconds)");
        List<Integer> preferred = preferredBatchSizes(b, maxBatchSize);
        int maxQueueSize = optInt(b, "max_queue_size", 0, Integer.MAX_VALUE, 0, " (0 = no limit)");
        int timeoutMs = optInt(b, "default_timeout_ms", 0, Integer.MAX_VALUE, 0, " (0 = no deadline)");
        int levels = optInt(b, "priority_levels", 0, MAX_PRIORITY_LEVELS, 0, " (0 = one level)");
        int defaultLevel = optInt(b, "default_priority_level", 0, levels, 0,
                " (priority_levels is " + levels + "; 0 = the lowest level)");
        DynamicBatching.LatencyPolicy policy = latencyPolicy(b, target);
        return new DynamicBatching(delay, preferred, maxQueueSize, timeoutMs, levels, defaultLevel, target, policy);
    }

    /** {@code latency_target_ms} in microseconds: a positive number of milliseconds, decimals allowed; 0 when absent. */
    private static long latencyTargetMicros(YamlSection b) {
        String key = "latency_target_ms";
        if (!b.keys().contains(key)) {
            return 0;
        }
        Object v = b.raw(key);
        double ms = v instanceof Number n && !(v instanceof java.math.BigInteger) ? n.doubleValue() : Double.NaN;
        if (!(ms >= 0.01 && ms <= MAX_LATENCY_TARGET_MS)) {
            throw b.error(key, "a number of milliseconds from 0.01 to " + MAX_LATENCY_TARGET_MS
                    + " (the p99 latency to keep requests under)", v);
        }
        return Math.round(ms * 1000);
    }

    private static DynamicBatching.LatencyPolicy latencyPolicy(YamlSection b, long target) {
        String key = "latency_policy";
        if (!b.keys().contains(key)) {
            return DynamicBatching.LatencyPolicy.LEARNED;
        }
        Object v = b.raw(key);
        if (target == 0) {
            throw b.error(key, "no latency_policy without latency_target_ms (the policy meets that target)", v);
        }
        if (v instanceof String text) {
            for (DynamicBatching.LatencyPolicy p : DynamicBatching.LatencyPolicy.values()) {
                if (p.name().equalsIgnoreCase(text)) {
                    return p;
                }
            }
        }
        throw b.error(key, "learned or aimd", v);
    }

    private static List<Integer> preferredBatchSizes(YamlSection b, int maxBatchSize) {
        String key = "preferred_batch_sizes";
        if (!b.keys().contains(key)) {
            return List.of();
        }
        if (!(b.raw(key) instanceof List<?> list)) {
            throw b.error(key, "a list of batch sizes", b.raw(key));
        }
        List<Integer> sizes = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (!isInteger(v) || ((Number) v).longValue() < 1 || ((Number) v).longValue() > maxBatchSize) {
                throw new ConfigException(b.where(key) + "expected integers from 1 to max_batch_size ("
                        + maxBatchSize + "), but element " + i + " is " + YamlSection.describe(v));
            }
            int size = ((Number) v).intValue();
            if (!sizes.isEmpty() && size <= sizes.get(sizes.size() - 1)) {
                throw new ConfigException(b.where(key) + "expected sizes in ascending order without duplicates,"
                        + " but element " + i + " (" + size + ") follows " + sizes.get(sizes.size() - 1));
            }
            sizes.add(size);
        }
        return sizes;
    }

    /** {@code instance_group}: absent is one CPU instance. */
    private static List<InstanceGroup> instanceGroups(YamlSection yaml) {
        String key = "instance_group";
        if (!yaml.keys().contains(key)) {
            return List.of();
        }
        if (!(yaml.raw(key) instanceof List<?> list) || list.isEmpty()) {
            throw yaml.error(key, "a list of at least one {count, kind, devices} group", yaml.raw(key));
        }
        List<InstanceGroup> groups = new ArrayList<>();
        for (YamlSection g : yaml.requireSections(key)) {
            g.rejectUnknownKeys(GROUP_KEYS);
            int count = optInt(g, "count", 1, MAX_INSTANCES_PER_GROUP, 1, "");
            InstanceGroup.Kind kind = InstanceGroup.Kind.CPU;
            if (g.keys().contains("kind")) {
                Object raw = g.raw("kind");
                if (!(raw instanceof String k)) {
                    throw g.error("kind", KINDS, raw);
                }
                kind = switch (k.strip().toUpperCase(Locale.ROOT)) {
                    case "CPU" -> InstanceGroup.Kind.CPU;
                    case "GPU" -> InstanceGroup.Kind.GPU;
                    case "MODEL" -> InstanceGroup.Kind.MODEL;
                    default -> throw g.error("kind", KINDS, raw);
                };
            }
            groups.add(new InstanceGroup(count, kind, devices(g, kind)));
        }
        return groups;
    }

    private static List<Integer> devices(YamlSection g, InstanceGroup.Kind kind) {
        String key = "devices";
        if (!g.keys().contains(key)) {
            return List.of();
        }
        if (kind != InstanceGroup.Kind.GPU) {
            throw new ConfigException(g.where(key) + "devices are GPU ordinals and only apply to kind GPU;"
                    + " this group's kind is " + kind);
        }
        if (!(g.raw(key) instanceof List<?> list) || list.isEmpty()) {
            throw g.error(key, "a list of GPU ordinals such as [0, 1] (leave devices out to use every GPU)",
                    g.raw(key));
        }
        List<Integer> devices = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (!isInteger(v) || ((Number) v).longValue() < 0 || ((Number) v).longValue() >= MAX_THREADS) {
                throw new ConfigException(g.where(key) + "expected GPU ordinals (integers from 0), but element " + i
                        + " is " + YamlSection.describe(v));
            }
            int device = ((Number) v).intValue();
            if (devices.contains(device)) {
                throw new ConfigException(g.where(key) + "device " + device + " is listed more than once");
            }
            devices.add(device);
        }
        return devices;
    }

    /**
     * An optional integer within [min, max]: {@code fallback} when the key is absent; present, it must
     * be an integer in range (a key with no value is an error, not the default).
     */
    private static long optLong(YamlSection s, String key, long min, long max, long fallback, String note) {
        if (!s.keys().contains(key)) {
            return fallback;
        }
        Object v = s.raw(key);
        if (!isInteger(v) || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
            throw s.error(key, "an integer from " + min + " to " + max + note, v);
        }
        return ((Number) v).longValue();
    }

    private static int optInt(YamlSection s, String key, int min, int max, int fallback, String note) {
        return (int) optLong(s, key, min, max, fallback, note);
    }

    private static boolean isInteger(Object v) {
        return v instanceof Integer || v instanceof Long;
    }

    private static List<TensorSpec> tensors(YamlSection yaml, String key, int maxBatchSize) {
        List<YamlSection> sections = yaml.requireSections(key);
        if (sections.isEmpty()) {
            throw yaml.error(key, "at least one tensor", "an empty list");
        }
        boolean inputs = key.equals("inputs");
        List<TensorSpec> specs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (YamlSection t : sections) {
            if (!inputs) {
                for (String inputOnly : List.of("value_range", "allow_ragged_batch")) {
                    if (t.keys().contains(inputOnly)) {
                        throw new ConfigException(t.where(inputOnly) + "applies to inputs only, not to outputs");
                    }
                }
            }
            t.rejectUnknownKeys(inputs ? INPUT_KEYS : TENSOR_KEYS);
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
            long[] shape = shape(t);
            boolean ragged = inputs && ragged(t, shape, maxBatchSize);
            specs.add(new TensorSpec(name, type, shape, ragged, inputs ? valueRange(t, type, shape, ragged) : null));
        }
        return specs;
    }

    /** An input's {@code allow_ragged_batch}: false when absent. */
    private static boolean ragged(YamlSection t, long[] shape, int maxBatchSize) {
        String key = "allow_ragged_batch";
        if (!optBoolean(t, key, false)) {
            return false;
        }
        if (maxBatchSize == 0) {
            throw new ConfigException(t.where(key) + "needs max_batch_size of at least 1: a ragged input's rows are"
                    + " concatenated across a batch, and a model with max_batch_size 0 takes no batch");
        }
        if (shape.length != 1 || shape[0] != -1) {
            throw new ConfigException(t.where(key) + "needs shape [-1] (a variable number of elements per row,"
                    + " which the model takes concatenated as one 1-D tensor), but the shape is "
                    + Shapes.format(shape));
        }
        return true;
    }

    /**
     * An input's {@code value_range}, both ends included: null when absent; only for integer datatypes,
     * within the datatype's own range. Either {@code [min, max]} for every element, or
     * {@code [[min, max], ...]} with one range per column, for an input whose last dimension is fixed
     * at that many columns (several categorical ids packed in one tensor, each column indexing its own
     * table).
     */
    private static ValueRange valueRange(YamlSection t, DataType type, long[] shape, boolean ragged) {
        String key = "value_range";
        if (!t.keys().contains(key)) {
            return null;
        }
        Object raw = t.raw(key);
        if (type == DataType.BOOL || type.isFloatingPoint()) {
            throw new ConfigException(t.where(key) + "applies to integer inputs only (UINT8, INT8, INT16, INT32,"
                    + " INT64), but the datatype is " + type);
        }
        String expected = "[min, max] (two integers with min <= max, both included, within " + type + "'s range ["
                + type.minInteger() + ", " + type.maxInteger() + "]) or a list of such ranges, one per column";
        if (!(raw instanceof List<?> list) || list.isEmpty()) {
            throw t.error(key, expected, raw);
        }
        if (!(list.get(0) instanceof List<?>)) {
            long[] range = range(t, key, expected, type, raw);
            return new ValueRange(range[0], range[1]);
        }
        long columns = shape.length == 0 ? -1 : shape[shape.length - 1];
        if (ragged || columns != list.size()) {
            throw new ConfigException(t.where(key) + "has " + list.size() + " ranges, one per column, so the input's"
                    + " last dimension must be fixed at " + list.size() + " (e.g. shape [" + list.size() + "]), but "
                    + (ragged ? "the input is ragged" : "the shape is " + Shapes.format(shape)));
        }
        long[] mins = new long[list.size()];
        long[] maxs = new long[list.size()];
        for (int c = 0; c < list.size(); c++) {
            long[] range = range(t, key + "[" + c + "]", expected, type, list.get(c));
            mins[c] = range[0];
            maxs[c] = range[1];
        }
        return new ValueRange(mins, maxs);
    }

    /** One {@code [min, max]} of a {@code value_range}, checked against the datatype. */
    private static long[] range(YamlSection t, String key, String expected, DataType type, Object raw) {
        if (!(raw instanceof List<?> list) || list.size() != 2 || !isInteger(list.get(0)) || !isInteger(list.get(1))) {
            throw t.error(key, expected, raw);
        }
        long min = ((Number) list.get(0)).longValue();
        long max = ((Number) list.get(1)).longValue();
        if (min > max || min < type.minInteger() || max > type.maxInteger()) {
            throw new ConfigException(t.where(key) + "expected " + expected + ", got [" + min + ", " + max + "]");
        }
        return new long[] {min, max};
    }

    /** {@code batch_inputs}: absent is none. */
    private static List<BatchInput> batchInputs(YamlSection yaml, int maxBatchSize, List<TensorSpec> inputs) {
        String key = "batch_inputs";
        if (!yaml.keys().contains(key)) {
            return List.of();
        }
        if (maxBatchSize == 0) {
            throw new ConfigException(yaml.where(key) + "needs max_batch_size of at least 1: batch inputs describe"
                    + " the rows of a batch, and a model with max_batch_size 0 takes no batch");
        }
        Set<String> names = new HashSet<>();
        inputs.forEach(s -> names.add(s.name()));
        List<BatchInput> batchInputs = new ArrayList<>();
        for (YamlSection b : yaml.requireSections(key)) {
            b.rejectUnknownKeys(BATCH_INPUT_KEYS);
            String name = b.requireString("name");
            if (!names.add(name)) {
                throw b.error("name", "a name used by no input and no other batch input", name);
            }
            String kindName = b.requireString("kind").strip();
            BatchInput.Kind kind = Arrays.stream(BatchInput.Kind.values()).filter(k -> k.name().equalsIgnoreCase(kindName))
                    .findFirst().orElseThrow(() -> b.error("kind", "one of " + Arrays.stream(BatchInput.Kind.values())
                            .map(Enum::name).collect(Collectors.joining(", ")), kindName));
            String source = b.requireString("source_input");
            if (inputs.stream().noneMatch(s -> s.name().equals(source))) {
                throw b.error("source_input", "the name of an input, one of "
                        + inputs.stream().map(TensorSpec::name).toList(), source);
            }
            String typeName = b.requireString("datatype").strip();
            DataType type = typeName.equalsIgnoreCase("INT32") ? DataType.INT32
                    : typeName.equalsIgnoreCase("INT64") ? DataType.INT64 : null;
            if (type == null) {
                throw b.error("datatype", "INT32 or INT64", typeName);
            }
            batchInputs.add(new BatchInput(name, kind, source, type));
        }
        return batchInputs;
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
