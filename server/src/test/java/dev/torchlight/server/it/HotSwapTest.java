package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload under load: clients hammer a model while 20 new versions appear in the polled
 * repository one after another. Not one request fails, each version takes over in turn, and the
 * newest serves at the end.
 */
class HotSwapTest {
    private static final int NEW_VERSIONS = 20;
    private static final int CLIENTS = 4;
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";

    @TempDir
    Path repo;

    @Test
    void twentyNewVersionsUnderLoadWithoutAFailedRequest() throws Exception {
        Path model = Files.createDirectories(repo.resolve("mlp"));
        Files.writeString(model.resolve("config.yaml"), Files.readString(TestData.models().resolve("mlp/config.yaml"))
                + "version_policy: {latest: 1}\n");
        addVersion(model, 1);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null,
                new ManagementConfig("127.0.0.1", 0, ModelControl.POLL, Duration.ofMillis(50), Duration.ofSeconds(10)),
                SecurityConfig.defaults(), 0, dev.torchlight.config.HandlerConfig.defaults());
        try (ServerHarness harness = new ServerHarness(config)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong requests = new AtomicLong();
            AtomicLongArray lastSeen = new AtomicLongArray(CLIENTS);
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().name("client-" + c).start(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = harness.post("/v2/models/mlp/infer", ROW);
                            requests.incrementAndGet();
                            if (r.statusCode() != 200) {
                                failures.add(r.statusCode() + " " + r.body());
                            } else {
                                lastSeen.set(client, ServerHarness.json(r).get("model_version").asLong());
                            }
                        } catch (RuntimeException e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            long start = System.nanoTime();
            for (int v = 2; v <= NEW_VERSIONS + 1; v++) {
                addVersion(model, v);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!allSee(lastSeen, v) && System.nanoTime() < deadline && failures.isEmpty()) {
                    Thread.sleep(10); // polling with a deadline; spinning would starve the server of CPU
                }
                assertThat(failures).as("failed requests").isEmpty();
                assertThat(allSee(lastSeen, v)).as("version %d took over", v).isTrue();
            }
            stop.set(true);
            for (Thread t : clients) {
                t.join(Duration.ofSeconds(30));
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertThat(failures).as("failed requests").isEmpty();
            assertThat(ServerHarness.json(harness.post("/v2/models/mlp/infer", ROW)).get("model_version").asLong())
                    .isEqualTo(NEW_VERSIONS + 1);
            assertThat(ServerHarness.json(harness.get("/v2/models/mlp")).get("versions").size())
                    .as("latest 1: the old versions were released").isEqualTo(1);
            System.out.printf("hot swap: %d versions in %d ms under %d requests, 0 failed%n", NEW_VERSIONS, ms,
                    requests.get());
        }
    }

    private static boolean allSee(AtomicLongArray lastSeen, long version) {
        for (int i = 0; i < lastSeen.length(); i++) {
            if (lastSeen.get(i) != version) {
                return false;
            }
        }
        return true;
    }

    /** Writes the version beside the repository and renames it in, so the poller never sees half a file. */
    private void addVersion(Path model, int version) throws IOException {
        Path staging = Files.createDirectories(repo.resolve(".staging-" + version));
        Files.copy(TestData.models().resolve("mlp/" + (version % 2 == 0 ? 2 : 1) + "/model.pt"),
                staging.resolve("model.pt"));
        Files.move(staging, model.resolve(Integer.toString(version)), StandardCopyOption.ATOMIC_MOVE);
    }
}
