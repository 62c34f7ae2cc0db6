package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerWatchTest {
    private final FakeClock clock = new FakeClock(1_000_000_000L);
    private final ServerWatch watch = new ServerWatch(clock, Duration.ofSeconds(2));

    @Test
    void goneOnlyAfterEveryConnectFailedForTheGracePeriod() throws InterruptedException {
        watch.connectFailed(new ConnectException("Connection refused"));
        clock.advanceMicros(1_999_999);
        watch.connectFailed(new ConnectException("Connection refused"));
        assertThat(watch.isGone()).isFalse();
        clock.advanceMicros(1);
        watch.connectFailed(new ConnectException("Connection refused: /127.0.0.1:1"));
        assertThat(watch.isGone()).isTrue();
        assertThat(watch.awaitGone(0)).isTrue();
        assertThat(watch.goneSince()).isEqualTo(1_000_000_000L);
        assertThat(watch.reason()).isEqualTo("connection refused");
    }

    @Test
    void anAnswerOrConnectInBetweenStartsTheStreakAgain() throws InterruptedException {
        watch.connectFailed(new ConnectException("Connection refused"));
        clock.advanceMicros(1_500_000);
        watch.alive();
        clock.advanceMicros(1_000_000);
        watch.connectFailed(new ConnectException("Connection refused"));
        clock.advanceMicros(1_500_000);
        watch.connectFailed(new ConnectException("Connection refused"));
        assertThat(watch.isGone()).isFalse();
        assertThat(watch.awaitGone(0)).isFalse();
    }

    @Test
    void otherCausesAreNamedByTheirMessage() {
        watch.connectFailed(new IOException("No route to host"));
        assertThat(watch.reason()).isEqualTo("No route to host");
    }
}
