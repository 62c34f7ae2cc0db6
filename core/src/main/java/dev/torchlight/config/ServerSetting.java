package dev.torchlight.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The settings of {@link ServerConfig}, each known by one name in three spellings: {@code http_port}
 * in the config file, {@code TORCHLIGHT_HTTP_PORT} in the environment, {@code --http-port} as a flag.
 */
public enum ServerSetting {
    HOST("host"),
    HTTP_PORT("http_port"),
    MODEL_REPOSITORY("model_repository"),
    MODELS("models"),
    MODEL_NAME("model_name"),
    MAX_REQUEST_SIZE("max_request_size"),
    METRICS_PORT("metrics_port"),
    ACCESS_LOG("access_log"),
    MANAGEMENT_HOST("management_host"),
    MANAGEMENT_PORT("management_port"),
    MODEL_CONTROL("model_control"),
    POLL_INTERVAL("poll_interval"),
    SHUTDOWN_GRACE("shutdown_grace"),
    DISABLE_TOKEN_AUTH("disable_token_auth"),
    INFERENCE_TOKEN("inference_token"),
    KEY_FILE("key_file"),
    ALLOWED_URLS("allowed_urls"),
    TLS_CERT("tls_cert"),
    TLS_KEY("tls_key"),
    GRPC_PORT("grpc_port"),
    ALLOW_CUSTOM_HANDLERS("allow_custom_handlers"),
    PREPROCESS_THREADS("preprocess_threads"),
    HTTP_HEADER_TIMEOUT("http_header_timeout"),
    HTTP_BODY_TIMEOUT("http_body_timeout"),
    HTTP_IDLE_TIMEOUT("http_idle_timeout"),
    MAX_INFLIGHT_BYTES("max_inflight_bytes");

    /** The environment variable prefix. */
    public static final String ENV_PREFIX = "TORCHLIGHT_";

    private static final Map<String, ServerSetting> BY_KEY =
            Arrays.stream(values()).collect(Collectors.toMap(ServerSetting::key, Function.identity()));

    private final String key;

    ServerSetting(String key) {
        this.key = key;
    }

    /** The config file key. */
    public String key() {
        return key;
    }

    /** The command-line flag. */
    public String flag() {
        return "--" + key.replace('_', '-');
    }

    /** The environment variable. */
    public String envVar() {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT);
    }

    /** The setting with config file key {@code key}, or null. */
    public static ServerSetting byKey(String key) {
        return BY_KEY.get(key);
    }
}
