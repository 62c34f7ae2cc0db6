package dev.torchlight.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.scheduler.CallerRuns;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TransportTest {
    @Test
    void eventLoopsMayRunFastModelsAndHaveTheStackForIt() throws Exception {
        EventLoopGroup loops = Transport.best().eventLoops(1, "transport-test");
        try {
            boolean marked = loops.submit(CallerRuns::permittedHere).get(10, TimeUnit.SECONDS);
            // 100,000 nested calls overflow the JVM's default 1 MiB stack, not a model thread's 16 MiB.
            int depth = loops.submit(() -> depth(100_000)).get(10, TimeUnit.SECONDS);

            assertThat(marked).as("marked for caller runs").isTrue();
            assertThat(depth).isEqualTo(100_000);
            assertThat(CallerRuns.permittedHere()).as("the test's own thread").isFalse();
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static int depth(int n) {
        return n == 0 ? 0 : 1 + depth(n - 1);
    }
}
