package dev.torchlight.server.http;

import dev.torchlight.registry.ModelService;
import dev.torchlight.server.http.handler.HandlerEndpoints;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 front end: KServe Open Inference Protocol v2 REST and TorchServe's inference API
 * on one port (routes in {@code docs/PROTOCOLS.md}). Netty event loops only decode, route and
 * encode; inference runs wherever the {@link ModelService} runs it.
 *
 * <p>Usage: {@code try (var server = new HttpServer(settings, service)) { var address = server.start(); ... }}
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    /** How long {@link #close()} lets running requests finish before closing their connections. */
    static final long DRAIN_SECONDS = 10;
    /** Decoded requests a connection may queue; reading only when idle keeps this far from reached. */
    private static final int MAX_PIPELINE_DEPTH = 8192;
    private static final int MAX_CHUNK_SIZE = 64 * 1024;

    private final HttpSettings settings;
    private final HttpRouter router;
    private final InFlightRequests inFlight = new InFlightRequests();
    private final ChannelGroup connections = new DefaultChannelGroup("torchlight-http", GlobalEventExecutor.INSTANCE);
    private EventLoopGroup acceptor;
    private EventLoopGroup workers;
    private Channel listener;
    private boolean closed;

    public HttpServer(HttpSettings settings, ModelService service) {
        this(settings, service, null);
    }

    /** @param handlers serves models with a handler (images, custom handlers); null for none */
    public HttpServer(HttpSettings settings, ModelService service, HandlerEndpoints handlers) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.router = new HttpRouter(Objects.requireNonNull(service, "service"), serverVersion(), handlers);
    }

    /**
     * Binds and starts serving.
     *
     * @return the bound address (with the actual port when the settings ask for port 0)
     * @throws UncheckedIOException when the address cannot be bound
     * @throws IllegalStateException when already started or closed
     */
    public synchronized InetSocketAddress start() {
        if (listener != null || closed) {
            throw new IllegalStateException(closed ? "server is closed" : "server already started");
        }
        acceptor = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("torchlight-http-accept"),
                NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("torchlight-http"),
                NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptor, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // HttpDispatcher reads one request at a time (see there).
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline()
                                .addLast("codec", new HttpServerCodec(
                                        new HttpDecoderConfig().setMaxChunkSize(MAX_CHUNK_SIZE), MAX_PIPELINE_DEPTH))
                                .addLast("limit", new RequestSizeLimiter((int) settings.maxRequestSize()))
                                .addLast("dispatch", new HttpDispatcher(router, inFlight));
                    }
                });
        try {
            listener = bootstrap.bind(settings.host(), settings.port()).syncUninterruptibly().channel();
        } catch (Exception e) {
            shutDownLoops();
            // Netty rethrows the bind failure (a checked IOException) without declaring it.
            String where = settings.host() + ":" + settings.port();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot listen on " + where + ": " + io.getMessage(), io);
            }
            throw e;
        }
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        log.debug("HTTP listening on {}", address);
        return address;
    }

    /**
     * Stops accepting connections, lets running requests finish (up to {@value #DRAIN_SECONDS}
     * seconds; new requests meanwhile get 503), then closes every connection and the event loops.
     * Safe to call more than once, and without {@link #start()}.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (listener == null) {
            return;
        }
        listener.close().syncUninterruptibly();
        try {
            if (!inFlight.closeAndAwait(DRAIN_SECONDS, TimeUnit.SECONDS)) {
                log.warn("closing HTTP connections with requests still running after {} s", DRAIN_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.close().awaitUninterruptibly();
        shutDownLoops();
    }

    private void shutDownLoops() {
        for (EventLoopGroup group : new EventLoopGroup[] {acceptor, workers}) {
            if (group != null) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            }
        }
    }

    /** The jar's Implementation-Version, when the manifest has one. */
    private static String serverVersion() {
        String version = HttpServer.class.getPackage().getImplementationVersion();
        return version != null ? version : "unknown";
    }
}
