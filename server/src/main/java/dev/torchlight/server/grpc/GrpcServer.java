package dev.torchlight.server.grpc;

import dev.torchlight.api.BatchedCompletion;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.ServerMetadata;
import dev.torchlight.server.lifecycle.Listener;
import dev.torchlight.server.transport.ByteBudget;
import dev.torchlight.server.transport.Transport;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC front end: {@code inference.GRPCInferenceService} (KServe v2), the
 * {@code grpc.health.v1} health service (readiness) and server reflection, on grpc-netty over the
 * same Netty as the HTTP front end. Handlers run on the event loops (they never block) and
 * replies are serialised there too, not on inference workers.
 *
 * <p>Transport security and authentication plug in at construction: an {@link SslContext}
 * (built for HTTP/2, e.g. with {@code GrpcSslContexts}) turns on TLS, and interceptors (a token
 * check) wrap the inference service; health and reflection stay open, like REST's health routes.
 *
 * <p>Usage: {@code try (var server = new GrpcServer(settings, inference, null, List.of())) {
 * var address = server.start(); ... }}
 */
public final class GrpcServer implements AutoCloseable, Listener {
    private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);
    /** How long {@link #close()} lets running calls finish before cancelling them. */
    static final long DRAIN_SECONDS = 10;

    private final GrpcClientErrors clientErrors = new GrpcClientErrors(System::nanoTime);
    private final GrpcRequestBudget requests;
    private final GrpcSettings settings;
    private final InferenceLayer inference;
    private final SslContext sslContext;
    private final List<ServerInterceptor> interceptors;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private ScheduledExecutorService timer;
    private volatile GrpcMessageTimeout messageTimeout;
    private ReadinessHealthService health;
    private final Transport transport = Transport.best();
    private Server server;
    private boolean closed;

    /**
     * @param sslContext server TLS context, or null for plaintext
     * @param interceptors applied to the inference service, first one outermost (e.g. a token check)
     */
    public GrpcServer(GrpcSettings settings, InferenceLayer inference, SslContext sslContext,
            List<ServerInterceptor> interceptors) {
        this(settings, inference, sslContext, interceptors, new ByteBudget(settings.maxInflightBytes()));
    }

    /**
     * @param sslContext server TLS context, or null for plaintext
     * @param interceptors applied to the inference service, first one outermost (e.g. a token check)
     * @param inflight the budget the calls' request messages draw on, which other listeners may share
     *     (instead of one of its own of {@link GrpcSettings#maxInflightBytes()})
     */
    public GrpcServer(GrpcSettings settings, InferenceLayer inference, SslContext sslContext,
            List<ServerInterceptor> interceptors, ByteBudget inflight) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.inference = Objects.requireNonNull(inference, "inference");
        this.sslContext = sslContext;
        this.interceptors = List.copyOf(interceptors);
        this.requests = new GrpcRequestBudget(inflight.share());
    }

    /**
     * Binds and starts serving.
     *
     * @return the bound address (with the actual port when the settings ask for port 0)
     * @throws UncheckedIOException when the address cannot be bound
     * @throws IllegalStateException when already started or closed
     */
    public synchronized InetSocketAddress start() {
        if (server != null || closed) {
            throw new IllegalStateException(closed ? "server is closed" : "server already started");
        }
        boss = transport.eventLoops(1, "torchlight-grpc-accept");
        workers = transport.eventLoops(Transport.ioThreads(), "torchlight-grpc");
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "torchlight-grpc-timer");
            t.setDaemon(true);
            return t;
        });
        health = new ReadinessHealthService(inference, timer);
        messageTimeout = new GrpcMessageTimeout(settings.messageTimeout(), timer);
        // Replies go out on the I/O threads in turn, each through an executor made once that joins the
        // completions of one engine batch into one task per thread.
        List<Executor> replyLoops = new ArrayList<>();
        workers.forEach(loop -> replyLoops.add(BatchedCompletion.deferring(loop)));
        AtomicInteger turn = new AtomicInteger();
        InferenceService service = new InferenceService(inference, ServerMetadata.version(),
                () -> replyLoops.get(Math.floorMod(turn.getAndIncrement(), replyLoops.size())));
        NettyServerBuilder builder = NettyServerBuilder
                .forAddress(new InetSocketAddress(settings.host(), settings.port()))
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .channelType(transport.serverChannel())
                .directExecutor()
                .maxInboundMessageSize((int) settings.maxMessageSize())
                .addStreamTracerFactory(messageTimeout)
                .addStreamTracerFactory(requests)
                .addService(ServerInterceptors.intercept(ServerInterceptors.intercept(
                        AliasingMarshaller.apply(service.bindService()), new CallHeaders()), interceptors.reversed()))
                .addService(health)
                .addService(ProtoReflectionServiceV1.newInstance());
        if (sslContext != null) {
            builder.sslContext(sslContext);
        }
        // Slow or idle clients, as on the HTTP listeners: a connection that takes too long to set up, or
        // holds no call for the idle timeout, is closed (GOAWAY first).
        if (!settings.handshakeTimeout().isZero()) {
            builder.handshakeTimeout(settings.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        if (!settings.idleTimeout().isZero()) {
            builder.maxConnectionIdle(settings.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        clientErrors.install();
        requests.install();
        try {
            server = builder.build().start();
        } catch (IOException e) {
            shutDownThreads();
            clientErrors.uninstall();
            requests.uninstall();
            String where = settings.host() + ":" + settings.port();
            throw new UncheckedIOException("cannot listen for gRPC on " + where + ": " + e.getMessage(), e);
        }
        InetSocketAddress address = (InetSocketAddress) server.getListenSockets().get(0);
        log.debug("gRPC listening on {}", address);
        return address;
    }

    /** Streams and connections clients reset or dropped since start (logged only in summary). */
    public long transportErrors() {
        return clientErrors.count();
    }

    /** Calls cancelled since start because their client took too long to send a request message. */
    public long slowCalls() {
        GrpcMessageTimeout t = messageTimeout;
        return t == null ? 0 : t.cutOff();
    }

    /** Request message bytes the calls hold now (received and not yet answered), within the in-flight budget. */
    public long inflightRequestBytes() {
        return requests.used();
    }

    /**
     * Stops accepting calls, lets running ones finish (up to {@value #DRAIN_SECONDS} seconds),
     * then cancels the rest and stops the threads. Safe to call more than once, and without
     * {@link #start()}.
     */
    @Override
    public void close() {
        close(TimeUnit.SECONDS.toNanos(DRAIN_SECONDS));
    }

    /** Refuses new calls (UNAVAILABLE); calls already running go on. Safe to call more than once. */
    @Override
    public synchronized void stopAccepting() {
        if (server != null && !server.isShutdown()) {
            server.shutdown();
            health.endWatches(); // health watches never end by themselves
        }
    }

    /**
     * Stops accepting calls, waits up to {@code drainNanos} for running ones, cancels the rest
     * and stops the threads.
     *
     * @return whether every running call finished in time
     */
    @Override
    public synchronized boolean close(long drainNanos) {
        clientErrors.uninstall();
        requests.uninstall();
        if (closed) {
            return true;
        }
        closed = true;
        if (server == null) {
            return true;
        }
        stopAccepting();
        boolean drained = false;
        try {
            drained = server.awaitTermination(drainNanos, TimeUnit.NANOSECONDS);
            if (!drained) {
                log.warn("cancelling gRPC calls still running after {} ms", drainNanos / 1_000_000);
                server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        shutDownThreads();
        return drained;
    }

    private void shutDownThreads() {
        if (timer != null) {
            timer.shutdownNow();
        }
        for (EventLoopGroup group : new EventLoopGroup[] {boss, workers}) {
            if (group != null) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            }
        }
    }
}
