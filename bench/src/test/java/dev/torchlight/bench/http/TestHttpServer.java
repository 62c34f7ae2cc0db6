package dev.torchlight.bench.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny HTTP/1.1 server for tests, on an ephemeral loopback port: it answers model metadata and
 * every other request according to its {@link Mode}, and counts what it received.
 */
public final class TestHttpServer implements AutoCloseable {
    /** How requests other than metadata are answered. */
    public enum Mode {
        /** 200 with a small fixed JSON body, keep-alive. */
        OK,
        /** 503 with a JSON error body, keep-alive. */
        UNAVAILABLE,
        /** The connection is closed without an answer. */
        CLOSE,
        /** No answer, ever. */
        HANG,
        /** 200 as {@link #OK}, then the connection closes, as a server's idle timeout would close it. */
        OK_THEN_CLOSE,
        /** 503 with {@code Retry-After: 1} and {@code Connection: close}, as a server shedding load answers. */
        SHED
    }

    private static final int KEPT_BODIES = 16;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicLong requests = new AtomicLong();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final List<String> uris = new CopyOnWriteArrayList<>();
    private final Channel listener;
    private volatile Mode mode = Mode.OK;
    private volatile String metadata;

    /** Starts listening on 127.0.0.1 on a free port. */
    public TestHttpServer() {
        listener = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        channels.add(listener);
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port());
    }

    public TestHttpServer mode(Mode mode) {
        this.mode = mode;
        return this;
    }

    /** The body of {@code GET /v2/models/...}; null answers 404. */
    public TestHttpServer metadata(String json) {
        this.metadata = json;
        return this;
    }

    /** Requests received other than metadata. */
    public long requests() {
        return requests.get();
    }

    /** The first few request bodies received, other than metadata. */
    public List<String> bodies() {
        return List.copyOf(bodies);
    }

    /** The first few request targets received, other than metadata. */
    public List<String> uris() {
        return List.copyOf(uris);
    }

    /** Stops listening and closes every connection: the port refuses from now on. */
    public void stop() {
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        stop();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String uri = request.uri();
            if (request.method().equals(HttpMethod.GET) && uri.startsWith("/v2/models/")) {
                String json = metadata;
                reply(ctx, json == null ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.OK,
                        json == null ? "{\"error\":\"no such model\"}" : json);
                return;
            }
            requests.incrementAndGet();
            if (bodies.size() < KEPT_BODIES) {
                bodies.add(request.content().toString(StandardCharsets.UTF_8));
                uris.add(request.method() + " " + uri);
            }
            switch (mode) {
                case OK -> reply(ctx, HttpResponseStatus.OK, "{\"outputs\":[]}");
                case UNAVAILABLE -> reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"error\":\"not ready\"}");
                case CLOSE -> ctx.close();
                case HANG -> { }
                case OK_THEN_CLOSE -> reply(ctx, HttpResponseStatus.OK, "{\"outputs\":[]}")
                        .addListener(ChannelFutureListener.CLOSE);
                case SHED -> {
                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.SERVICE_UNAVAILABLE, Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8));
                    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2).set(HttpHeaderNames.RETRY_AFTER, "1")
                            .set(HttpHeaderNames.CONNECTION, "close");
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                }
            }
        }

        private ChannelFuture reply(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            return ctx.writeAndFlush(response);
        }
    }
}
