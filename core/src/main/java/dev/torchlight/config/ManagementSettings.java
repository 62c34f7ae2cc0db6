package dev.torchlight.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@link ServerConfigLoader}'s part for {@link ManagementConfig} and {@link SecurityConfig}:
 * their defaults, how each of their settings is parsed, and how they are built from the merged values.
 */
final class ManagementSettings {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)?", Pattern.CASE_INSENSITIVE);
    private static final Duration MAX_DURATION = Duration.ofDays(1);

    private ManagementSettings() {}

    static void putDefaults(Map<ServerSetting, Object> values, ServerConfig defaults) {
        ManagementConfig m = defaults.management();
        SecurityConfig s = defaults.security();
        values.put(ServerSetting.MANAGEMENT_HOST, m.host());
        values.put(ServerSetting.MANAGEMENT_PORT, m.port());
        values.put(ServerSetting.MODEL_CONTROL, m.modelControl());
        values.put(ServerSetting.POLL_INTERVAL, m.pollInterval());
        values.put(ServerSetting.SHUTDOWN_GRACE, m.shutdownGrace());
        values.put(ServerSetting.DISABLE_TOKEN_AUTH, !s.tokenAuth());
        values.put(ServerSetting.INFERENCE_TOKEN, s.inferenceToken());
        values.put(ServerSetting.KEY_FILE, s.keyFile());
        values.put(ServerSetting.ALLOWED_URLS, s.allowedUrls());
        values.put(ServerSetting.TLS_CERT, s.tlsCert());
        values.put(ServerSetting.TLS_KEY, s.tlsKey());
    }

    static ManagementConfig management(Map<ServerSetting, Object> values) {
        return new ManagementConfig((String) values.get(ServerSetting.MANAGEMENT_HOST),
                (Integer) values.get(ServerSetting.MANAGEMENT_PORT),
                (ModelControl) values.get(ServerSetting.MODEL_CONTROL),
                (Duration) values.get(ServerSetting.POLL_INTERVAL),
                (Duration) values.get(ServerSetting.SHUTDOWN_GRACE));
    }

    @SuppressWarnings("unchecked")
    static SecurityConfig security(Map<ServerSetting, Object> values) {
        return new SecurityConfig(!(Boolean) values.get(ServerSetting.DISABLE_TOKEN_AUTH),
                (Boolean) values.get(ServerSetting.INFERENCE_TOKEN),
                (Path) values.get(ServerSetting.KEY_FILE),
                (List<String>) values.get(ServerSetting.ALLOWED_URLS),
                (Path) values.get(ServerSetting.TLS_CERT),
                (Path) values.get(ServerSetting.TLS_KEY));
    }

    /** Parses one of this class's settings; {@code where} prefixes error messages. */
    static Object parse(ServerSetting s, Object raw, String where, Path baseDir) {
        return switch (s) {
            case MANAGEMENT_HOST -> ServerConfigLoader.host(raw, where);
            case MANAGEMENT_PORT -> ServerConfigLoader.port(raw, where);
            case MODEL_CONTROL -> {
                if (raw instanceof String mode) {
                    try {
                        yield ModelControl.valueOf(mode.strip().toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        // reported below
                    }
                }
                throw new ConfigException(where + "expected none, poll or explicit, got " + YamlSection.describe(raw));
            }
            case POLL_INTERVAL, SHUTDOWN_GRACE -> duration(raw, where, s == ServerSetting.POLL_INTERVAL);
            case DISABLE_TOKEN_AUTH, INFERENCE_TOKEN -> bool(raw, where);
            case KEY_FILE, TLS_CERT, TLS_KEY -> path(raw, where, baseDir);
            case ALLOWED_URLS -> patterns(raw, where);
            default -> throw new IllegalArgumentException("not a management setting: " + s);
        };
    }

    /** {@code 500ms}, {@code 5s}, {@code 2m}, or whole seconds. */
    static Duration duration(Object raw, String where, boolean positive) {
        String text = raw instanceof Integer || raw instanceof Long ? raw.toString() : raw instanceof String str ? str : null;
        if (text != null) {
            Matcher m = DURATION.matcher(text.strip());
            if (m.matches()) {
                try {
                    long n = Long.parseLong(m.group(1));
                    String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
                    Duration d = switch (unit) {
                        case "ms" -> Duration.ofMillis(n);
                        case "m" -> Duration.ofMinutes(n);
                        default -> Duration.ofSeconds(n);
                    };
                    if (d.compareTo(MAX_DURATION) <= 0 && (!positive || !d.isZero())) {
                        return d;
                    }
                } catch (NumberFormatException | ArithmeticException e) {
                    // reported below
                }
            }
        }
        throw new ConfigException(where + "expected a duration such as 500ms, 5s or 2m (plain numbers are seconds"
                + (positive ? ", more than 0" : "") + ", at most 1 day), got " + YamlSection.describe(raw));
    }

    static boolean bool(Object raw, String where) {
        if (raw instanceof Boolean b) {
            return b;
        }
        if (raw instanceof String str) {
            switch (str.strip().toLowerCase(Locale.ROOT)) {
                case "true" -> {
                    return true;
                }
                case "false" -> {
                    return false;
                }
                default -> { }
            }
        }
        throw new ConfigException(where + "expected true or false, got " + YamlSection.describe(raw));
    }

    private static Path path(Object raw, String where, Path baseDir) {
        if (!(raw instanceof String p) || p.isBlank()) {
            throw new ConfigException(where + "expected a file path, got " + YamlSection.describe(raw));
        }
        try {
            Path path = Path.of(p.strip());
            return baseDir == null || path.isAbsolute() ? path : baseDir.resolve(path);
        } catch (InvalidPathException e) {
            throw new ConfigException(where + "expected a file path, got '" + p + "': " + e.getReason());
        }
    }

    /** A comma-separated string (flag, environment) or a YAML list of regular expressions. */
    private static List<String> patterns(Object raw, String where) {
        List<?> items = ServerConfigLoader.listItems(raw, where, "regular expressions");
        List<String> out = new ArrayList<>();
        for (Object item : items) {
            if (!(item instanceof String regex) || regex.isBlank()) {
                throw new ConfigException(where + "expected regular expressions, got " + YamlSection.describe(item));
            }
            try {
                Pattern.compile(regex.strip());
            } catch (PatternSyntaxException e) {
                throw new ConfigException(where + "'" + regex.strip() + "' is not a valid regular expression: "
                        + e.getDescription());
            }
            out.add(regex.strip());
        }
        return List.copyOf(out);
    }
}
