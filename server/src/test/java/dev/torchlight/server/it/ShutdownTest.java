package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real {@code torchlight serve} process under load: every request sent before the
 * signal (and so accepted) is answered with its result, even those still waiting in the batcher's
 * queue when the signal came, and the process exits within its grace period. A SIGTERM during
 * start-up waits for the start and then shuts down the same way.
 */
class ShutdownTest {
    private static final Pattern LISTENING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+) \\(management");
    private static final Pattern METRICS = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";
    private static final int CLIENTS = 8;

    @TempDir
    Path repo;

    @Test
    void sigtermAnswersEveryAcceptedRequestThenExits() throws Exception {
        TestData.copyModels(repo, "mlp");
        // Requests wait up to 300 ms for a fuller batch, so some are always queued when the signal comes.
        Files.writeString(repo.resolve("mlp/config.yaml"), Files.readString(repo.resolve("mlp/config.yaml"))
                + "dynamic_batching: {max_queue_delay_us: 300000}\n");
        Path logFile = repo.resolve("server.log");
        Process server = startServer(logFile);
        int httpPort = port(server, logFile, LISTENING);
        URI metrics = URI.create("http://127.0.0.1:" + port(server, logFile, METRICS) + "/metrics");
        URI infer = URI.create("http://127.0.0.1:" + httpPort + "/v2/models/mlp/infer");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        AtomicBoolean signalled = new AtomicBoolean();
        AtomicInteger answeredAfterSignal = new AtomicInteger();
        AtomicInteger before = new AtomicInteger();
        ConcurrentLinkedQueue<String> lost = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(Thread.ofPlatform().start(() -> {
                while (!signalled.get()) {
                    boolean sentBefore = !signalled.get();
                    try {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(infer)
                                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(ROW)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (sentBefore) {
                            before.incrementAndGet();
                            if (r.statusCode() != 200) {
                                lost.add(r.statusCode() + " " + r.body());
                            } else if (signalled.get()) {
                                answeredAfterSignal.incrementAndGet();
                            }
                        }
                    } catch (IOException e) {
                        if (sentBefore) {
                            lost.add(e.toString());
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        // Let traffic flow, then signal while requests sit in the queue.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (before.get() < 2 * CLIENTS && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling with a deadline; spinning would starve the server of CPU
        }
        awaitQueued(client, metrics, deadline);
        long signalledAt = System.nanoTime();
        signalled.set(true);
        server.destroy(); // SIGTERM
        boolean exited = server.waitFor(30, TimeUnit.SECONDS);
        long stopMs = (System.nanoTime() - signalledAt) / 1_000_000;
        for (Thread t : clients) {
            t.join(Duration.ofSeconds(30));
        }
        if (!exited) {
            server.destroyForcibly();
        }
        assertThat(exited).as("exited within the grace period").isTrue();
        List<String> log = Files.readAllLines(logFile);
        assertThat(lost).as("requests sent before SIGTERM that got no result; log:\n" + String.join("\n", log))
                .isEmpty();
        assertThat(answeredAfterSignal.get()).as("requests in flight at the signal were answered").isPositive();
        assertThat(String.join("\n", log)).as("exit code " + server.exitValue())
                .contains("every accepted request was answered");
        System.out.printf("SIGTERM: %d requests before the signal, %d answered after it, stopped in %d ms%n",
                before.get(), answeredAfterSignal.get(), stopMs);
    }

    @Test
    void sigtermWhileStartingWaitsForTheStartThenShutsDownGracefully() throws Exception {
        TestData.copyModels(repo, "mlp");
        Path logFile = repo.resolve("server.log");
        Process server = startServer(logFile);
        // The engine library is opened while the models load: the server is still starting.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (server.isAlive() && System.nanoTime() < deadline
                && !(Files.exists(logFile) && Files.readString(logFile).contains("engine library"))) {
            Thread.sleep(10); // polling with a deadline; spinning would starve the server of CPU
        }
        server.destroy(); // SIGTERM
        boolean exited = server.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            server.destroyForcibly();
        }
        String log = Files.readString(logFile);
        assertThat(exited).as("exited; log:\n" + log).isTrue();
        assertThat(log).doesNotContain("Exception").contains("every accepted request was answered");
    }

    /** Waits until the server's queue holds requests (its Prometheus queue-depth gauge), so the signal meets them. */
    private static void awaitQueued(HttpClient client, URI metrics, long deadline)
            throws IOException, InterruptedException {
        while (System.nanoTime() < deadline) {
            String text = client.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
            boolean queued = text.lines().filter(l -> l.startsWith("torchlight_queue_depth{"))
                    .anyMatch(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 1);
            if (queued) {
                return;
            }
            Thread.sleep(10); // polling with a deadline; spinning would starve the server of CPU
        }
        throw new AssertionError("no request was ever seen waiting in the queue");
    }

    /** Reads a port from the start-up log line that {@code pattern} matches. */
    private static int port(Process server, Path logFile, Pattern pattern) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && server.isAlive()) {
            Matcher m = pattern.matcher(Files.exists(logFile) ? Files.readString(logFile) : "");
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(10); // polling with a deadline; spinning would starve the server of CPU
        }
        server.destroyForcibly();
        throw new AssertionError("the server did not start: " + Files.readString(logFile));
    }

    private Process startServer(Path logFile) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                "dev.torchlight.server.cli.Main", "serve",
                "--model-repository", repo.toString(), "--http-port", "0", "--management-port", "0",
                "--metrics-port", "0", "--grpc-port", "0",
                "--disable-token-auth", "--shutdown-grace", "20s"));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
    }
}
