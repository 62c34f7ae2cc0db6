package dev.torchlight.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class IntraOpBudgetTest {

    @Test
    void oversubscribingWarnsOnceAndLaterTimesAreInformation() {
        PrintStream saved = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            IntraOpBudget budget = new IntraOpBudget(2);
            for (int swap = 0; swap < 3; swap++) { // three instances on two cores, three times over
                try (IntraOpBudget.Lease a = budget.acquire(0); IntraOpBudget.Lease b = budget.acquire(0);
                        IntraOpBudget.Lease c = budget.acquire(0)) {
                    assertThat(a.threads() + b.threads() + c.threads()).isEqualTo(3);
                }
            }
        } finally {
            System.setErr(saved);
        }
        var lines = log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("in all on 2 cores")).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("WARN").contains("GNU OpenMP slows every model");
        assertThat(lines.subList(1, 3)).allSatisfy(l -> assertThat(l).contains("INFO").contains("again"));
    }

    @Test
    void oneInstanceGetsEveryCore() {
        IntraOpBudget budget = new IntraOpBudget(16);
        try (IntraOpBudget.Lease only = budget.acquire(0)) {
            assertThat(only.threads()).isEqualTo(16);
        }
    }

    @Test
    void instancesOfAllModelsShareTheCoresEvenlyAndFollowLoadsAndUnloads() {
        IntraOpBudget budget = new IntraOpBudget(16);
        IntraOpBudget.Lease a = budget.acquire(0);
        IntraOpBudget.Lease b = budget.acquire(0);
        IntraOpBudget.Lease c = budget.acquire(0);

        assertThat(a.threads()).as("16 cores / 3 instances").isEqualTo(5);
        assertThat(c.threads()).isEqualTo(5);

        c.close();
        assertThat(a.threads()).as("an instance released gives its threads back").isEqualTo(8);
        c.close();
        assertThat(b.threads()).as("closing twice releases once").isEqualTo(8);
        a.close();
        b.close();
        assertThat(budget.share()).isEqualTo(16);
    }

    @Test
    void fixedCountsAreKeptAndTheOthersShareWhatIsLeft() {
        IntraOpBudget budget = new IntraOpBudget(8);
        IntraOpBudget.Lease fixed = budget.acquire(2);
        IntraOpBudget.Lease a = budget.acquire(0);
        IntraOpBudget.Lease b = budget.acquire(0);

        assertThat(fixed.threads()).isEqualTo(2);
        assertThat(a.threads()).as("(8 - 2) / 2").isEqualTo(3);

        IntraOpBudget.Lease greedy = budget.acquire(10);
        assertThat(greedy.threads()).as("asked for: kept even beyond the cores").isEqualTo(10);
        assertThat(b.threads()).as("never below one").isEqualTo(1);
        greedy.close();
        assertThat(b.threads()).isEqualTo(3);
    }

    @Test
    void moreInstancesThanCoresRunWithOneThreadEach() {
        IntraOpBudget budget = new IntraOpBudget(2);
        IntraOpBudget.Lease[] leases = new IntraOpBudget.Lease[6];
        for (int i = 0; i < leases.length; i++) {
            leases[i] = budget.acquire(0);
        }
        assertThat(leases[0].threads()).isEqualTo(1);
    }

    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> new IntraOpBudget(0)).hasMessageContaining("cores must be at least 1");
        assertThatThrownBy(() -> new IntraOpBudget(2).acquire(-1)).hasMessageContaining("got -1");
    }
}
