package dev.torchlight.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Builds the {@link ServerConfig} with one precedence: defaults &lt; config file &lt;
 * {@code TORCHLIGHT_*} environment &lt; command-line flags. Every error names its source (file and
 * key, environment variable, or flag) and what was expected.
 */
public final class ServerConfigLoader {
    /** Environment variable naming the config file, when {@code --config} is not given. */
    public static final String CONFIG_ENV = ServerSetting.ENV_PREFIX + "CONFIG";

    /** The value that turns the metrics listener or the access log off. */
    public static final String OFF = "off";

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?I?B?)?", Pattern.CASE_INSENSITIVE);

    /**
     * The variables Kubernetes sets in every pod for each Service (its "service links"), which a
     * Service named {@code torchlight} or {@code torchlight-*} puts under our prefix:
     * {@code X_SERVICE_HOST}, {@code X_SERVICE_PORT[_NAME]} and
     * {@code X_PORT_<port>_<protocol>[_PROTO|_PORT|_ADDR]}; and {@code X_PORT}, whose value is a URL
     * ({@link #SERVICE_LINK_URL}), so that a misspelt port setting is still refused.
     */
    private static final Pattern KUBERNETES_SERVICE_LINK = Pattern.compile(
            "TORCHLIGHT(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_\\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)");
    private static final Pattern SERVICE_LINK_PORT = Pattern.compile("TORCHLIGHT(_[A-Z0-9_]+)?_PORT");
    private static final Pattern SERVICE_LINK_URL = Pattern.compile("(tcp|udp|sctp)://.*");

    /**
     * Variables under our prefix that are not settings: the config file's path, and the engine
     * library the engine loads (docs/ENGINE.md).
     */
    private static final Set<String> NOT_SETTINGS = Set.of(CONFIG_ENV, ServerSetting.ENV_PREFIX + "ENGINE_LIBRARY");

    private ServerConfigLoader() {}

    /**
     * @param defaults the values used where no source sets one
     * @param configFile the server config file, or null for none
     * @param env the process environment; only {@code TORCHLIGHT_*} variables are read
     * @param flags values given on the command line, by setting
     */
    public static ServerConfig load(
            ServerConfig defaults, Path configFile, Map<String, String> env, Map<ServerSetting, String> flags) {
        Map<ServerSetting, Object> values = new EnumMap<>(ServerSetting.class);
        values.put(ServerSetting.HOST, defaults.host());
        values.put(ServerSetting.HTTP_PORT, defaults.httpPort());
        values.put(ServerSetting.MODEL_REPOSITORY, defaults.modelRepository());
        values.put(ServerSetting.MODELS, defaults.models());
        values.put(ServerSetting.MODEL_NAME, defaults.modelName() == null ? "" : defaults.modelName());
        values.put(ServerSetting.MAX_REQUEST_SIZE, defaults.maxRequestSize());
        values.put(ServerSetting.METRICS_PORT, defaults.metricsPort());
        values.put(ServerSetting.ACCESS_LOG, defaults.accessLog() == null ? OFF : defaults.accessLog());
        ManagementSettings.putDefaults(values, defaults);
        values.put(ServerSetting.GRPC_PORT, defaults.grpcPort());
        values.put(ServerSetting.ALLOW_CUSTOM_HANDLERS, defaults.allowCustomHandlers());
        values.put(ServerSetting.PREPROCESS_THREADS, defaults.preprocessThreads());
        values.put(ServerSetting.HTTP_HEADER_TIMEOUT, defaults.clientTimeouts().header());
        values.put(ServerSetting.HTTP_BODY_TIMEOUT, defaults.clientTimeouts().body());
        values.put(ServerSetting.HTTP_IDLE_TIMEOUT, defaults.clientTimeouts().idle());
        // Absent: four bodies of whatever size limit the sources end up setting.
        values.put(ServerSetting.MAX_INFLIGHT_BYTES, -1L);

        if (configFile != null) {
            YamlSection yaml = YamlSection.read(configFile);
            yaml.rejectUnknownKeys(Arrays.stream(ServerSetting.values()).map(ServerSetting::key).collect(Collectors.toSet()));
            for (String key : yaml.keys()) {
                ServerSetting s = ServerSetting.byKey(key);
                values.put(s, parse(s, yaml.raw(key), yaml.where(key), configFile.toAbsolutePath().getParent()));
            }
        }
        Set<String> known = new TreeSet<>();
        known.addAll(NOT_SETTINGS);
        for (ServerSetting s : ServerSetting.values()) {
            known.add(s.envVar());
        }
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(ServerSetting.ENV_PREFIX) || NOT_SETTINGS.contains(name)) {
                continue;
            }
            ServerSetting s = Arrays.stream(ServerSetting.values())
                    .filter(x -> x.envVar().equals(name))
                    .findFirst()
                    .orElse(null);
            if (s == null) {
                if (KUBERNETES_SERVICE_LINK.matcher(name).matches() || SERVICE_LINK_PORT.matcher(name).matches()
                        && SERVICE_LINK_URL.matcher(e.getValue()).matches()) {
                    continue; // set by Kubernetes for a Service named torchlight-*, not meant for us
                }
                throw new ConfigException("environment variable " + name + ": unknown; expected one of " + known);
            }
            values.put(s, parse(s, e.getValue(), "environment variable " + name + ": ", null));
        }
        flags.forEach((s, v) -> values.put(s, parse(s, v, "flag " + s.flag() + ": ", null)));

        long maxRequestSize = (Long) values.get(ServerSetting.MAX_REQUEST_SIZE);
        long inflight = (Long) values.get(ServerSetting.MAX_INFLIGHT_BYTES);
        if (inflight < 0) {
            inflight = ServerConfig.defaultInflightBytes(maxRequestSize);
        } else if (inflight < maxRequestSize) {
            throw new ConfigException(ServerSetting.MAX_INFLIGHT_BYTES.flag() + " " + inflight + " bytes is less than "
                    + ServerSetting.MAX_REQUEST_SIZE.flag() + " " + maxRequestSize + " bytes; expected at least that"
                    + " (else a request of the largest size could never be read)");
        }
        @SuppressWarnings("unchecked")
        List<String> models = (List<String>) values.get(ServerSetting.MODELS);
        String modelName = (String) values.get(ServerSetting.MODEL_NAME);
        if (!modelName.isEmpty() && !models.isEmpty()) {
            throw new ConfigException(ServerSetting.MODEL_NAME.flag() + " serves the repository directory as one model;"
                    + " it cannot be combined with " + ServerSetting.MODELS.flag() + " " + models);
        }
        return new ServerConfig(
                (String) values.get(ServerSetting.HOST),
                (Integer) values.get(ServerSetting.HTTP_PORT),
                (Path) values.get(ServerSetting.MODEL_REPOSITORY),
                models,
                (Long) values.get(ServerSetting.MAX_REQUEST_SIZE),
                (Integer) values.get(ServerSetting.METRICS_PORT),
                values.get(ServerSetting.ACCESS_LOG) instanceof Path log ? log : null,
                ManagementSettings.management(values),
                ManagementSettings.security(values),
                (Integer) values.get(ServerSetting.GRPC_PORT),
                new HandlerConfig((Boolean) values.get(ServerSetting.ALLOW_CUSTOM_HANDLERS),
                        (Integer) values.get(ServerSetting.PREPROCESS_THREADS)),
                modelName.isEmpty() ? null : modelName,
                new ClientTimeouts((Duration) values.get(ServerSetting.HTTP_HEADER_TIMEOUT),
                        (Duration) values.get(ServerSetting.HTTP_BODY_TIMEOUT),
                        (Duration) values.get(ServerSetting.HTTP_IDLE_TIMEOUT)),
                inflight);
    }

    /**
     * Converts one raw value (a string from the environment or a flag, or a YAML scalar/list).
     *
     * @param baseDir directory that relative paths in a config file resolve against; null for the
     *     working directory
     */
    private static Object parse(ServerSetting s, Object raw, String where, Path baseDir) {
        return switch (s) {
            case HOST -> host(raw, where);
            case HTTP_PORT, GRPC_PORT -> port(raw, where);
            case MODEL_REPOSITORY -> {
                if (!(raw instanceof String p) || p.isBlank()) {
                    throw new ConfigException(where + "expected a directory path, got " + YamlSection.describe(raw));
                }
                try {
                    Path path = Path.of(p.strip());
                    yield baseDir == null || path.isAbsolute() ? path : baseDir.resolve(path);
                } catch (InvalidPathException e) {
                    throw new ConfigException(where + "expected a directory path, got '" + p + "': " + e.getReason());
                }
            }
            case MODELS -> models(raw, where);
            case MODEL_NAME -> modelName(raw, where);
            case METRICS_PORT -> {
                if (raw instanceof String str && str.strip().equalsIgnoreCase(OFF) || Boolean.FALSE.equals(raw)) {
                    yield ServerConfig.METRICS_OFF;
                }
                Long port = asLong(raw);
                if (port == null || port < 0 || port > 65535) {
                    throw new ConfigException(where + "expected a port from 0 to 65535 (0 = any free port) or '"
                            + OFF + "', got " + YamlSection.describe(raw));
                }
                yield port.intValue();
            }
            case ACCESS_LOG -> {
                if (raw instanceof String str && str.strip().equalsIgnoreCase(OFF) || Boolean.FALSE.equals(raw)) {
                    yield OFF;
                }
                if (!(raw instanceof String p) || p.isBlank()) {
                    throw new ConfigException(where + "expected a file path or '" + OFF + "', got "
                            + YamlSection.describe(raw));
                }
                try {
                    Path path = Path.of(p.strip());
                    yield baseDir == null || path.isAbsolute() ? path : baseDir.resolve(path);
                } catch (InvalidPathException e) {
                    throw new ConfigException(where + "expected a file path, got '" + p + "': " + e.getReason());
                }
            }
            case MAX_INFLIGHT_BYTES -> size(raw, where);
            case MAX_REQUEST_SIZE -> {
                long size = size(raw, where);
                if (size < 1024) {
                    throw new ConfigException(where + "expected a size of at least 1 KiB, got " + YamlSection.describe(raw));
                }
                yield size;
            }
            case MANAGEMENT_HOST, MANAGEMENT_PORT, MODEL_CONTROL, POLL_INTERVAL, SHUTDOWN_GRACE, DISABLE_TOKEN_AUTH,
                    INFERENCE_TOKEN, KEY_FILE, ALLOWED_URLS, TLS_CERT, TLS_KEY ->
                    ManagementSettings.parse(s, raw, where, baseDir);
            case ALLOW_CUSTOM_HANDLERS -> ManagementSettings.bool(raw, where);
            // 0 turns a timeout off.
            case HTTP_HEADER_TIMEOUT, HTTP_BODY_TIMEOUT, HTTP_IDLE_TIMEOUT -> ManagementSettings.duration(raw, where, false);
            case PREPROCESS_THREADS -> {
                Long threads = asLong(raw);
                if (threads == null || threads < 0 || threads > 1024) {
                    throw new ConfigException(where + "expected a thread count from 0 to 1024 (0 = a quarter of the"
                            + " cores), got " + YamlSection.describe(raw));
                }
                yield threads.intValue();
            }
        };
    }

    /**
     * The items of a comma-separated string (flag, environment) or a YAML list, unchecked.
     *
     * @param what the items, for the error, e.g. {@code model names}
     */
    static List<?> listItems(Object raw, String where, String what) {
        if (raw instanceof String str) {
            return str.isBlank() ? List.of() : Arrays.asList(str.split(","));
        }
        if (raw instanceof List<?> list) {
            return list;
        }
        throw new ConfigException(where + "expected a comma-separated list of " + what + ", got "
                + YamlSection.describe(raw));
    }

    private static List<String> models(Object raw, String where) {
        List<?> items = listItems(raw, where, "model names");
        List<String> names = new ArrayList<>();
        for (Object item : items) {
            if (!(item instanceof String name) || name.isBlank() || name.strip().contains("/")) {
                throw new ConfigException(where + "expected model names (directory names), got "
                        + YamlSection.describe(item));
            }
            names.add(name.strip());
        }
        return List.copyOf(names);
    }

    /** A model name: letters, digits, '.', '_' and '-' (KServe's InferenceService names qualify). */
    private static String modelName(Object raw, String where) {
        if (raw instanceof String name && name.strip().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            return name.strip();
        }
        throw new ConfigException(where + "expected a model name (letters, digits, '.', '_' and '-', starting with a"
                + " letter or digit, at most 128 characters), got " + YamlSection.describe(raw));
    }

    /** A host name or IP address. */
    static String host(Object raw, String where) {
        if (raw instanceof String h && !h.isBlank()) {
            return h.strip();
        }
        throw new ConfigException(where + "expected a host name or IP address, got " + YamlSection.describe(raw));
    }

    /** A port from 0 (any free port) to 65535. */
    static int port(Object raw, String where) {
        Long port = asLong(raw);
        if (port == null || port < 0 || port > 65535) {
            throw new ConfigException(where + "expected a port from 0 to 65535 (0 = any free port), got "
                    + YamlSection.describe(raw));
        }
        return port.intValue();
    }

    /** Bytes from an integer or a size such as {@code 64MiB}, {@code 10MB}, {@code 512k}. */
    static long size(Object raw, String where) {
        Long plain = asLong(raw);
        if (plain != null) {
            return plain;
        }
        if (raw instanceof String s) {
            Matcher m = SIZE.matcher(s.strip());
            if (m.matches() && (m.group(2) == null || !m.group(2).toUpperCase(Locale.ROOT).startsWith("I"))) {
                String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
                long base = unit.contains("I") || unit.length() == 1 ? 1024 : 1000;
                int power = unit.isEmpty() ? 0 : "BKMGT".indexOf(unit.charAt(0));
                try {
                    long value = Long.parseLong(m.group(1));
                    for (int i = 0; i < power; i++) {
                        value = Math.multiplyExact(value, base);
                    }
                    return value;
                } catch (ArithmeticException | NumberFormatException e) {
                    // too large; reported below
                }
            }
        }
        throw new ConfigException(where + "expected a size in bytes such as 67108864, 64MiB or 100MB, got "
                + YamlSection.describe(raw));
    }

    private static Long asLong(Object raw) {
        if (raw instanceof Integer || raw instanceof Long) {
            return ((Number) raw).longValue();
        }
        if (raw instanceof String s) {
            try {
                return Long.parseLong(s.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
