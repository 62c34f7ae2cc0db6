package dev.torchlight.server.cli;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.config.ServerConfigLoader;
import dev.torchlight.config.ServerSetting;
import dev.torchlight.engine.Engine;
import dev.torchlight.server.runtime.EngineFactory;
import dev.torchlight.server.runtime.SoftHeapLimit;
import dev.torchlight.server.runtime.TorchlightServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code torchlight serve}: loads the model repository and serves it until stopped. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serve the models of a model repository over HTTP (KServe v2 and TorchServe APIs) and gRPC (KServe v2).",
            "Settings come from defaults < --config file < TORCHLIGHT_* environment < flags."
        })
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-repository", paramLabel = "DIR",
            description = "Model repository (default: the bundled models/ directory).")
    String modelRepository;

    @Option(names = "--models", paramLabel = "a,b", description = "Load only these models (default: all).")
    String models;

    @Option(names = "--model-name", paramLabel = "NAME",
            description = "Serve --model-repository as one model's folder under NAME (KServe's /mnt/models layout).")
    String modelName;

    @Option(names = "--host", description = "Address to bind (default: 127.0.0.1, loopback only).")
    String host;

    @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port; 0 = any free port (default: 8080).")
    String httpPort;

    @Option(names = "--max-request-size", paramLabel = "SIZE",
            description = "Largest request body, e.g. 64MiB (default), 100MB or bytes.")
    String maxRequestSize;

    @Option(names = "--grpc-port", paramLabel = "PORT",
            description = "gRPC port (KServe v2 GRPCInferenceService); 0 = any free port (default: 7070).")
    String grpcPort;

    @Option(names = "--allow-custom-handlers", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            description = "Let models load Java handler code from jars in their directories (default: false;"
                    + " see docs/SECURITY.md).")
    String allowCustomHandlers;

    @Option(names = "--preprocess-threads", paramLabel = "N",
            description = "Threads for handlers' image decoding and postprocessing; 0 = a quarter of the cores (default).")
    String preprocessThreads;

    @Option(names = "--http-header-timeout", paramLabel = "DURATION",
            description = "Longest an HTTP client may take to send a request's headers, from their first byte;"
                    + " then 408 and the connection closes; also a gRPC connection's set-up (default: 10s; 0 = no"
                    + " limit).")
    String httpHeaderTimeout;

    @Option(names = "--http-body-timeout", paramLabel = "DURATION",
            description = "Longest an HTTP client may take to send a request's body, from the end of its headers;"
                    + " then 408 and the connection closes. On gRPC, longest a request message may take: a unary"
                    + " call's from its start, any message's from its first bytes; then the call is cancelled"
                    + " (default: 60s; 0 = no limit).")
    String httpBodyTimeout;

    @Option(names = "--http-idle-timeout", paramLabel = "DURATION",
            description = "Longest an HTTP connection may stay open with no request on it, or a gRPC connection"
                    + " with no call (default: 120s; 0 = no limit).")
    String httpIdleTimeout;

    @Option(names = "--max-inflight-bytes", paramLabel = "SIZE",
            description = "Most request bytes held at once, read and not yet answered: by the HTTP and gRPC inference"
                    + " listeners together, and by the management listener apart; a request that does not fit gets"
                    + " 503 (gRPC: UNAVAILABLE) (default: 4 x --max-request-size).")
    String maxInflightBytes;

    @Option(names = "--config", paramLabel = "FILE", description = "Server config file (YAML).")
    Path config;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Prometheus port (GET /metrics on the same host); 0 = any free port, off = no metrics"
                    + " (default: 8082).")
    String metricsPort;

    @Option(names = "--access-log", paramLabel = "FILE",
            description = "One line per request to this file, or off (default: logs/access.log).")
    String accessLog;

    @Option(names = "--no-access-log", description = "Write no access log (as --access-log off).")
    boolean noAccessLog;
    @Option(names = "--management-host", description = "Address the management API binds (default: 127.0.0.1).")
    String managementHost;

    @Option(names = "--management-port", paramLabel = "PORT",
            description = "Management API port; 0 = any free port (default: 8081).")
    String managementPort;

    @Option(names = "--model-control", paramLabel = "MODE",
            description = "none | poll | explicit (default): who changes the loaded models after start-up.")
    String modelControl;

    @Option(names = "--poll-interval", paramLabel = "DURATION",
            description = "How often --model-control poll rescans the repository, e.g. 5s (default: 15s).")
    String pollInterval;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION",
            description = "How long a stop may take to answer accepted requests (default: 30s).")
    String shutdownGrace;

    @Option(names = "--disable-token-auth",
            description = "Serve the management API without keys. Anyone who reaches it can replace models.")
    boolean disableTokenAuth;

    @Option(names = "--inference-token", description = "Require the inference key on the inference API too.")
    boolean inferenceToken;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Where the generated keys are written (default: a new private temporary directory).")
    String keyFile;

    @Option(names = "--allowed-urls", paramLabel = "REGEX,...",
            description = "Registration URLs allowed besides the model repository (regular expressions).")
    String allowedUrls;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "TLS certificate chain for both listeners.")
    String tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "TLS private key (PKCS#8 PEM) for both listeners.")
    String tlsKey;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig serverConfig;
        try {
            serverConfig = resolve(System.getenv());
        } catch (ConfigException e) {
            err.println("torchlight serve: " + e.getMessage());
            return 2;
        }
        // The hook is in place before the server starts: a SIGTERM that arrives while it starts (its
        // listeners may already answer) waits for the start and then closes it gracefully.
        CompletableFuture<TorchlightServer> started = new CompletableFuture<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            TorchlightServer running = started.join();
            if (running != null) {
                running.close();
            }
            stopped.countDown();
        }, "shutdown"));
        SoftHeapLimit.applyToThisJvm();
        Engine engine = EngineFactory.create();
        try {
            started.complete(TorchlightServer.start(serverConfig, engine));
        } catch (ConfigException e) {
            started.complete(null);
            err.println("torchlight serve: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            started.complete(null);
            err.println("torchlight serve: cannot start: " + e.getMessage());
            return 1;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Merges defaults, the config file, the environment and these flags. */
    ServerConfig resolve(Map<String, String> env) {
        Map<ServerSetting, String> flags = new EnumMap<>(ServerSetting.class);
        put(flags, ServerSetting.MODEL_REPOSITORY, modelRepository);
        put(flags, ServerSetting.MODELS, models);
        put(flags, ServerSetting.MODEL_NAME, modelName);
        put(flags, ServerSetting.HOST, host);
        put(flags, ServerSetting.HTTP_PORT, httpPort);
        put(flags, ServerSetting.MAX_REQUEST_SIZE, maxRequestSize);
        put(flags, ServerSetting.METRICS_PORT, metricsPort);
        put(flags, ServerSetting.ACCESS_LOG, noAccessLog ? ServerConfigLoader.OFF : accessLog);
        put(flags, ServerSetting.MANAGEMENT_HOST, managementHost);
        put(flags, ServerSetting.MANAGEMENT_PORT, managementPort);
        put(flags, ServerSetting.MODEL_CONTROL, modelControl);
        put(flags, ServerSetting.POLL_INTERVAL, pollInterval);
        put(flags, ServerSetting.SHUTDOWN_GRACE, shutdownGrace);
        put(flags, ServerSetting.DISABLE_TOKEN_AUTH, disableTokenAuth ? "true" : null);
        put(flags, ServerSetting.INFERENCE_TOKEN, inferenceToken ? "true" : null);
        put(flags, ServerSetting.KEY_FILE, keyFile);
        put(flags, ServerSetting.ALLOWED_URLS, allowedUrls);
        put(flags, ServerSetting.TLS_CERT, tlsCert);
        put(flags, ServerSetting.TLS_KEY, tlsKey);
        put(flags, ServerSetting.GRPC_PORT, grpcPort);
        put(flags, ServerSetting.ALLOW_CUSTOM_HANDLERS, allowCustomHandlers);
        put(flags, ServerSetting.PREPROCESS_THREADS, preprocessThreads);
        put(flags, ServerSetting.HTTP_HEADER_TIMEOUT, httpHeaderTimeout);
        put(flags, ServerSetting.HTTP_BODY_TIMEOUT, httpBodyTimeout);
        put(flags, ServerSetting.HTTP_IDLE_TIMEOUT, httpIdleTimeout);
        put(flags, ServerSetting.MAX_INFLIGHT_BYTES, maxInflightBytes);
        Path file = config;
        if (file == null && env.get(ServerConfigLoader.CONFIG_ENV) != null) {
            file = Path.of(env.get(ServerConfigLoader.CONFIG_ENV));
        }
        return ServerConfigLoader.load(ServerConfig.defaults(defaultRepository()), file, env, flags);
    }

    private static void put(Map<ServerSetting, String> flags, ServerSetting setting, String value) {
        if (value != null) {
            flags.put(setting, value);
        }
    }

    /** The launcher passes the project directory so that the bundled models are found from anywhere. */
    private static Path defaultRepository() {
        String home = System.getProperty("torchlight.home");
        return home == null ? Path.of("models") : Path.of(home, "models");
    }
}
