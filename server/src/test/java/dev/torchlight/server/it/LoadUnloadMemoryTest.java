package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 50 load/unload cycles of the same model through the management API: the process's resident
 * memory after the last cycle stays within 10% of what it was after the first, so unloading
 * releases what loading took (native libtorch memory included). Linux only (reads /proc).
 */
class LoadUnloadMemoryTest {
    private static final int CYCLES = 50;
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";
    private static final Path STATUS = Path.of("/proc/self/status");

    @TempDir
    Path repo;

    @Test
    void residentMemoryIsStableOverFiftyLoadUnloadCycles() throws IOException {
        assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status");
        TestData.copyModels(repo, "mlp", "no_batch");
        // Batches of up to 8: each load warms up 8 batch sizes instead of 64, keeping 50 cycles quick.
        Path config = repo.resolve("mlp/config.yaml");
        Files.writeString(config, Files.readString(config).replace("max_batch_size: 64", "max_batch_size: 8"));
        try (ServerHarness harness = new ServerHarness(repo, List.of("no_batch"), 1 << 20)) {
            long afterFirst = 0;
            long start = System.nanoTime();
            for (int cycle = 1; cycle <= CYCLES; cycle++) {
                expect(harness.manage("POST", "/v2/repository/models/mlp/load"), 200);
                expect(harness.post("/v2/models/mlp/infer", ROW), 200);
                expect(harness.manage("POST", "/v2/repository/models/mlp/unload"), 200);
                if (cycle == 1) {
                    afterFirst = residentKiB();
                }
            }
            long afterLast = residentKiB();
            double growth = (afterLast - afterFirst) / (double) afterFirst;
            System.out.printf("load/unload: %d cycles in %d ms; RSS after the first %d MiB, after the last %d MiB"
                    + " (%+.1f%%)%n", CYCLES, (System.nanoTime() - start) / 1_000_000, afterFirst / 1024,
                    afterLast / 1024, growth * 100);
            assertThat(growth).as("RSS growth from cycle 1 to cycle %d", CYCLES).isLessThan(0.10);
        }
    }

    private static void expect(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    }

    /** VmRSS after a garbage collection, so that heap garbage waiting for collection does not count. */
    private static long residentKiB() throws IOException {
        System.gc();
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in " + STATUS);
    }
}
