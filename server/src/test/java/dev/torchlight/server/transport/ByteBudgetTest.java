package dev.torchlight.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A budget refuses what does not fit, and its shares draw on it together while counting their own parts. */
class ByteBudgetTest {

    @Test
    void aReservationFitsOnlyInWhatIsLeft() {
        ByteBudget budget = new ByteBudget(100);
        assertThat(budget.tryReserve(60)).isTrue();
        assertThat(budget.tryReserve(41)).isFalse();
        assertThat(budget.used()).as("a refusal reserves nothing").isEqualTo(60);
        assertThat(budget.tryReserve(40)).isTrue();
        budget.release(60);
        assertThat(budget.used()).isEqualTo(40);
    }

    @Test
    void sharesDrawOnTheWholeAndCountTheirOwnParts() {
        ByteBudget whole = new ByteBudget(100);
        ByteBudget http = whole.share();
        ByteBudget grpc = whole.share();
        assertThat(http.tryReserve(70)).isTrue();
        assertThat(grpc.tryReserve(40)).as("only 30 left of the whole").isFalse();
        assertThat(grpc.tryReserve(30)).isTrue();
        assertThat(http.used()).isEqualTo(70);
        assertThat(grpc.used()).isEqualTo(30);
        assertThat(whole.used()).isEqualTo(100);

        http.release(70);
        assertThat(http.used()).isZero();
        assertThat(whole.used()).isEqualTo(30);
        assertThat(grpc.tryReserve(70)).isTrue();
        assertThat(grpc.capacity()).isEqualTo(100);
    }
}
