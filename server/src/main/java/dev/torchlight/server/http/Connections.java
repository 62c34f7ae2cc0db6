package dev.torchlight.server.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes connections without losing the last response. Closing a socket that still has unread
 * input makes the kernel send a reset, which can destroy a response the client has not read yet
 * (a 413 sent while the client is still uploading). So: send FIN after the response, read and
 * discard whatever still arrives, and close when the client closes or after a short linger.
 */
final class Connections {
    static final long LINGER_MILLIS = 2_000;
    private static final String DRAIN = "drain";

    private Connections() {}

    /** Half-closes {@code channel} after its last response and closes it once the peer is done. */
    static void lingerAndClose(Channel channel) {
        if (!channel.isActive()) {
            channel.close();
            return;
        }
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get(DRAIN) == null) {
            pipeline.addFirst(DRAIN, new InputDrain());
        }
        channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        if (channel instanceof SocketChannel socket && !socket.isOutputShutdown()) {
            socket.shutdownOutput().addListener(f -> {
                if (!f.isSuccess()) {
                    channel.close();
                }
            });
        } else {
            channel.close();
            return;
        }
        // Keep reading so the peer's remaining bytes are consumed and its close is seen.
        channel.config().setAutoRead(true);
    }

    /** Sits at the head of a closing connection and drops every inbound byte. */
    private static final class InputDrain extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // nothing downstream is interested any more
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
