package dev.torchlight.server.transport;

import dev.torchlight.engine.LoadedModel;
import dev.torchlight.scheduler.CallerRuns;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;

/**
 * The socket layer the listeners run on: Linux's native epoll where its library loads (fewer
 * system calls and no selector bookkeeping per request), else the JDK's NIO, which works
 * everywhere. Both behave the same to the handlers above them.
 *
 * @param name "epoll" or "nio", for logs
 * @param ioHandlers makes the event loops' I/O handlers
 * @param serverChannel the listening socket's channel class
 */
public record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel) {
    /** epoll when available, else NIO. */
    public static Transport best() {
        return Epoll.isAvailable() ? epoll() : nio();
    }

    public static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
    }

    /**
     * Whether I/O threads may run a fast CPU model's request themselves ({@link CallerRuns}); the JVM
     * option {@code -Dtorchlight.callerRuns=false} turns it off (every request handed to its model's
     * instance thread), for comparisons and as a way out should a model misbehave on those threads.
     */
    static final boolean CALLER_RUNS = !"false".equalsIgnoreCase(System.getProperty("torchlight.callerRuns"));

    /**
     * An event loop group of {@code threads} threads named {@code name-N}. Each may run a fast CPU
     * model's request itself ({@link CallerRuns}), so each has a model thread's stack.
     */
    public EventLoopGroup eventLoops(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new ModelCapableThreads(name), ioHandlers);
    }

    /** Netty's threads, with room for native model code on their stacks, marked for {@link CallerRuns}. */
    private static final class ModelCapableThreads extends DefaultThreadFactory {
        ModelCapableThreads(String name) {
            super(name);
        }

        @Override
        protected Thread newThread(Runnable r, String name) {
            return new FastThreadLocalThread(threadGroup, () -> {
                if (CALLER_RUNS) {
                    CallerRuns.permitOnThisThread();
                }
                r.run();
            }, name, LoadedModel.THREAD_STACK_BYTES);
        }
    }

    /**
     * Event loops for a listener: half the cores, at least one. A loop only decodes, encodes and
     * hands work on, so a few serve many connections, while the model instances need whole cores
     * to compute: with a loop per core, the loops kept preempting the instance's thread (on 2 cores,
     * one loop served the batched risk model 13 % faster than two; docs/PERFORMANCE.md).
     */
    public static int ioThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }
}
