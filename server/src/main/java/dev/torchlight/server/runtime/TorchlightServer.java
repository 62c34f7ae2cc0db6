package dev.torchlight.server.runtime;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.handler.HandlerFactory;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.ModelRegistry;
import dev.torchlight.registry.ModelService;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.server.http.HttpServer;
import dev.torchlight.server.http.HttpSettings;
import dev.torchlight.server.http.handler.HandlerEndpoints;
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
    private final HandlerStage handlers;

    private TorchlightServer(ModelRegistry registry, HttpServer http, InetSocketAddress httpAddress,
            HandlerStage handlers) {
        this.registry = registry;
        this.http = http;
        this.httpAddress = httpAddress;
        this.handlers = handlers;
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
        HandlerStage handlers = new HandlerStage(registry, repository.root()::resolve,
                HandlerFactory.standard(config.allowCustomHandlers()), config.preprocessThreads());
        handlers.prepare(registry.models());
        HttpServer http = new HttpServer(
                new HttpSettings(config.host(), config.httpPort(), config.maxRequestSize()), registry,
                new HandlerEndpoints(handlers));
        InetSocketAddress address;
        try {
            address = http.start();
        } catch (RuntimeException e) {
            handlers.close();
            registry.close();
            throw e;
        }
        LOG.info("torchlight serving {} model(s) from {} on http://{}:{}", sources.size(),
                repository.root().toAbsolutePath().normalize(), address.getHostString(), address.getPort());
        return new TorchlightServer(registry, http, address, handlers);
    }

    /** The address the HTTP listener is bound to, with the actual port. */
    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    public ModelService models() {
        return registry;
    }

    /** Stops accepting connections, then releases the models. */
    @Override
    public void close() {
        http.close();
        handlers.close();
        registry.close();
        LOG.info("torchlight stopped");
    }
}
