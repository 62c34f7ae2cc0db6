package dev.torchlight.server.http;

import dev.torchlight.server.access.AccessLog;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.ServerMetadata;
import dev.torchlight.server.lifecycle.Listener;
import dev.torchlight.server.transport.ByteBudget;
import dev.torchlight.server.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 front end: KServe Open Inference Protocol v2 REST and TorchServe's inference API
 * on one port (routes in {@code docs/PROTOCOLS.md}). Netty event loops only decode, route and
 * encode; inference runs wherever the {@link InferenceLayer} runs it.
 *
 * <p>Usage: {@code try (var server = new HttpServer("http", settings, HttpServer.inferenceRoutes(inference), null)) {
 * var address = server.start(); ... }}
 */
public final class HttpServer implements AutoCloseable, Listener {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    /** How long {@link #close()} lets running requests finish before closing their connections. */
    static final long DRAIN_SECONDS = 10;
    /** Requests the codec pairs with responses; HttpDispatcher stops reading long before this. */
    private static final int MAX_PIPELINE_DEPTH = 8192;
    private static final int MAX_CHUNK_SIZE = 64 * 1024;

    private final String name;
    private final HttpSettings settings;
    private final Transport transport = Transport.best();
    private final HttpRoutes router;
    private final SslContext ssl;
    private final InFlightRequests inFlight = new InFlightRequests();
    private final ChannelGroup connections = new DefaultChannelGroup("torchlight-http", GlobalEventExecutor.INSTANCE);
    private final LongAdder accepted = new LongAdder();
    private final StatusCounts statuses = new StatusCounts();
    private final RequestTimeouts.Counts timedOut = new RequestTimeouts.Counts();
    private final LongAdder transportErrors = new LongAdder();
    private final BodyBudget bodies;
    private final AccessLog accessLog;
    private EventLoopGroup acceptor;
    private EventLoopGroup workers;
    private Channel listener;
    private boolean closed;

    /**
     * A listener serving {@code routes}, without access log.
     *
     * @param name names its threads and log lines, e.g. {@code http} or {@code management}
     * @param ssl TLS for every connection, or null for plain HTTP
     */
    public HttpServer(String name, HttpSettings settings, HttpRoutes routes, SslContext ssl) {
        this(name, settings, routes, ssl, AccessLog.OFF);
    }

    /**
     * A listener serving {@code routes}.
     *
     * @param name names its threads and log lines, e.g. {@code http} or {@code management}
     * @param ssl TLS for every connection, or null for plain HTTP
     * @param accessLog gets one entry per answered request (the caller closes it)
     */
    public HttpServer(String name, HttpSettings settings, HttpRoutes routes, SslContext ssl, AccessLog accessLog) {
        this(name, settings, routes, ssl, accessLog, new ByteBudget(settings.maxInflightBytes()));
    }

    /**
     * A listener serving {@code routes} whose request bodies draw on {@code inflight}, a budget it may
     * share with other listeners (instead of one of its own of {@link HttpSettings#maxInflightBytes()}).
     *
     * @param name names its threads and log lines, e.g. {@code http} or {@code management}
     * @param ssl TLS for every connection, or null for plain HTTP
     * @param accessLog gets one entry per answered request (the caller closes it)
     */
    public HttpServer(String name, HttpSettings settings, HttpRoutes routes, SslContext ssl, AccessLog accessLog,
            ByteBudget inflight) {
        this.name = Objects.requireNonNull(name, "name");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.router = Objects.requireNonNull(routes, "routes");
        this.ssl = ssl;
        this.accessLog = Objects.requireNonNull(accessLog, "accessLog");
        this.bodies = new BodyBudget(inflight.share(), settings.maxRequestSize(), statuses);
    }

    /** The inference API routes (KServe v2 and TorchServe) over {@code inference}. */
    public static HttpRoutes inferenceRoutes(InferenceLayer inference) {
        return new HttpRouter(Objects.requireNonNull(inference, "inference"), ServerMetadata.version());
    }

    /** Connections open now. */
    public long openConnections() {
        return connections.size();
    }

    /** Connections closed since start because the client was too slow: sending headers, a body, or nothing. */
    public java.util.Map<String, Long> timedOutConnections() {
        return java.util.Map.of("headers", timedOut.headers.sum(), "body", timedOut.body.sum(), "idle",
                timedOut.idle.sum());
    }

    /** Request body bytes this listener holds now (read and not yet answered), within its in-flight budget. */
    public long inflightBodyBytes() {
        return bodies.used();
    }

    /** Connections closed since start for what the client did: resets, malformed or overflowing bytes. */
    public long transportErrors() {
        return transportErrors.sum();
    }

    /** Responses written since start, by status code. */
    public StatusCounts responses() {
        return statuses;
    }

    /** Connections accepted since start. */
    public long acceptedConnections() {
        return accepted.sum();
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
        acceptor = transport.eventLoops(1, "torchlight-" + name + "-accept");
        workers = transport.eventLoops(Transport.ioThreads(), "torchlight-" + name);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptor, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        accepted.increment();
                        RequestTimeouts timeouts = new RequestTimeouts(settings, timedOut, statuses);
                        if (ssl != null) {
                            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("timeout-bytes", timeouts.bytes)
                                .addLast("codec", new HttpServerCodec(
                                        new HttpDecoderConfig().setMaxChunkSize(MAX_CHUNK_SIZE), MAX_PIPELINE_DEPTH))
                                .addLast("timeout-messages", timeouts.messages)
                                .addLast("body-budget", bodies.newHandler())
                                .addLast("limit", new RequestSizeLimiter((int) settings.maxRequestSize()))
                                .addLast("dispatch", new HttpDispatcher(router, inFlight, accessLog, statuses,
                                        transportErrors));
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
        log.debug("{} listening on {} ({})", name, address, transport.name());
        return address;
    }

    /**
     * Stops accepting connections, lets running requests finish (up to {@value #DRAIN_SECONDS}
     * seconds; new requests meanwhile get 503), then closes every connection and the event loops.
     * Safe to call more than once, and without {@link #start()}.
     */
    @Override
    public void close() {
        close(TimeUnit.SECONDS.toNanos(DRAIN_SECONDS));
    }

    /** Stops accepting connections; those already open are still served. Safe to call more than once. */
    public synchronized void stopAccepting() {
        if (listener != null && listener.isOpen()) {
            listener.close().syncUninterruptibly();
        }
    }

    /**
     * As {@link #close()}, letting running requests finish for up to {@code drainNanos}.
     *
     * @return true when every running request was answered in time
     */
    public synchronized boolean close(long drainNanos) {
        if (closed) {
            return true;
        }
        closed = true;
        if (listener == null) {
            return true;
        }
        stopAccepting();
        boolean drained = false;
        try {
            drained = inFlight.closeAndAwait(drainNanos, TimeUnit.NANOSECONDS);
            if (!drained) {
                log.warn("closing {} connections with requests still running after {} ms", name, drainNanos / 1_000_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.close().awaitUninterruptibly();
        shutDownLoops();
        return drained;
    }

    private void shutDownLoops() {
        for (EventLoopGroup group : new EventLoopGroup[] {acceptor, workers}) {
            if (group != null) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            }
        }
    }
}
