package dev.torchlight.server.runtime;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.registry.ModelRegistry;
import dev.torchlight.registry.ModelService;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.server.grpc.GrpcServer;
import dev.torchlight.server.grpc.GrpcSettings;
import dev.torchlight.server.http.HttpServer;
import dev.torchlight.server.http.HttpSettings;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds the object graph for one server from its config and an engine,
 * loads the models and opens the listeners. Tests build it the same way the CLI does.
 */
public final class TorchlightServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TorchlightServer.class);

    private final ModelRegistry registry;
    private final HttpServer http;
    private final InetSocketAddress httpAddress;
    private final GrpcServer grpc;
    private final InetSocketAddress grpcAddress;

    private TorchlightServer(ModelRegistry registry, HttpServer http, InetSocketAddress httpAddress,
            GrpcServer grpc, InetSocketAddress grpcAddress) {
        this.registry = registry;
        this.http = http;
        this.httpAddress = httpAddress;
        this.grpc = grpc;
        this.grpcAddress = grpcAddress;
    }

    /**
     * Loads the configured models and starts listening.
     *
     * @throws dev.torchlight.config.ConfigException when the repository or the model list is wrong
     */
    public static TorchlightServer start(ServerConfig config, Engine engine) {
        ModelRepository repository = new ModelRepository(config.modelRepository());
        List<ModelSource> sources = repository.scan(config.models());
        ModelRegistry registry = new ModelRegistry(engine);
        sources.forEach(registry::load);
        HttpServer http = new HttpServer(
                new HttpSettings(config.host(), config.httpPort(), config.maxRequestSize()), registry);
        // TLS and token interceptors plug in here, as GrpcServer's constructor arguments.
        GrpcServer grpc = new GrpcServer(
                new GrpcSettings(config.host(), config.grpcPort(), config.maxRequestSize()), registry);
        InetSocketAddress address;
        InetSocketAddress grpcAddress;
        try {
            address = http.start();
            grpcAddress = grpc.start();
        } catch (RuntimeException e) {
            http.close();
            registry.close();
            throw e;
        }
        LOG.info("torchlight serving {} model(s) from {} on http://{}:{}", sources.size(),
                repository.root().toAbsolutePath().normalize(), address.getHostString(), address.getPort());
        LOG.info("gRPC (KServe v2) on {}:{}", grpcAddress.getHostString(), grpcAddress.getPort());
        return new TorchlightServer(registry, http, address, grpc, grpcAddress);
    }

    /** The address the HTTP listener is bound to, with the actual port. */
    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    /** The address the gRPC listener is bound to, with the actual port. */
    public InetSocketAddress grpcAddress() {
        return grpcAddress;
    }

    public ModelService models() {
        return registry;
    }

    /** Stops accepting connections, then releases the models. */
    @Override
    public void close() {
        grpc.close();
        http.close();
        registry.close();
        LOG.info("torchlight stopped");
    }
}
