package dev.torchlight.bench.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Opens {@link HttpConnection}s to one server on a few shared NIO event loops: many connections
 * per thread, no thread per request or per connection.
 */
public final class HttpLoadClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final HttpTarget target;
    private final EventLoop pacingLoop;

    /**
     * @param target the server
     * @param ioThreads event loop threads (e.g. {@link #defaultIoThreads()})
     * @param requestTimeout how long a request may wait for its answer; also the connect timeout
     */
    public HttpLoadClient(HttpTarget target, int ioThreads, Duration requestTimeout) {
        this.target = target;
        long timeoutNanos = requestTimeout.toNanos();
        // Linux's native epoll where it loads (cheaper per request than the JDK's selector), else NIO.
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("torchlight-bench-io", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.min(Integer.MAX_VALUE, Math.max(1, requestTimeout.toMillis())))
                .remoteAddress(target.host(), target.port())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // Requests go out pre-encoded (PreparedRequest) and answers are parsed by
                        // HttpConnection itself: no HTTP codec in the pipeline.
                        ch.pipeline().addLast(new HttpConnection(ch, timeoutNanos));
                    }
                });
        this.pacingLoop = group.next();
    }

    /** Event loop threads for the load generator: the cores, at most 4 (enough for ~10^5 req/s). */
    public static int defaultIoThreads() {
        return Math.min(Runtime.getRuntime().availableProcessors(), 4);
    }

    /** The server this client connects to. */
    public HttpTarget target() {
        return target;
    }

    /**
     * One of the client's event loops, the same on every call: an open loop paces on it and opens its
     * connections there, so that a send is made by the thread that times it.
     */
    public EventLoop pacingLoop() {
        return pacingLoop;
    }

    /** Opens a connection; {@code listener} hears the outcome on an event loop. */
    public void connect(ConnectListener listener) {
        connect(listener, bootstrap);
    }

    /** Opens a connection served by {@code loop}; {@code listener} hears the outcome there. */
    public void connect(ConnectListener listener, EventLoop loop) {
        connect(listener, bootstrap.clone(loop));
    }

    private static void connect(ConnectListener listener, Bootstrap bootstrap) {
        ChannelFuture future = bootstrap.connect();
        future.addListener(f -> {
            Channel channel = future.channel();
            if (f.isSuccess()) {
                listener.onConnected(channel.pipeline().get(HttpConnection.class));
            } else {
                listener.onConnectFailed(f.cause());
            }
        });
    }

    /**
     * Runs {@code task} on an event loop after a delay (retry back-off, without a sleeping
     * thread); once the client is closing, the task is dropped.
     */
    public void schedule(Runnable task, Duration delay) {
        try {
            group.next().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // closing: nothing more to run
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
