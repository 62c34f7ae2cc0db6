package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.repository.archive.ExtractionLimits;
import dev.torchlight.server.mar.MarImporter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TorchServe's documented management calls, replayed as a migrating user's scripts send them,
 * against the real server with an image classifier imported from a TorchServe archive
 * ({@code testdata/mar/classifier.mar}, version 1.0, and the same archive re-versioned 2.0): the
 * status codes and reply shapes TorchServe documents, version strings, per-version scaling, 202 for
 * what runs in the background, lenient parameters, renaming, and image classification through
 * {@code /predictions} after every kind of change.
 */
class TorchServeManagementTest {
    private static final String MODEL = "tinyresnet";

    @TempDir
    Path repo;

    @TempDir
    Path scratch;

    @TempDir
    Path elsewhere;

    private ServerHarness harness;

    @BeforeAll
    static void goldens() {
        ImageClassifierTest.top5 = TestData.read(TestData.root().resolve("testdata/handlers/golden/top5.json"));
    }

    @AfterEach
    void close() {
        if (harness != null) {
            harness.close();
        }
    }

    /** A server with nothing loaded (the repository is empty until a test imports into it). */
    private void start(List<String> allowedUrls) {
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, List.of(),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null,
                new ManagementConfig("127.0.0.1", 0, ModelControl.EXPLICIT, Duration.ofSeconds(30),
                        Duration.ofSeconds(10)),
                new SecurityConfig(false, false, null, allowedUrls, null, null), 0, HandlerConfig.defaults()));
    }

    /** Imports the test archive, re-versioned, into {@code repository}, as {@code torchlight import-mar} does. */
    private MarImporter.Imported importMar(Path repository, String version) throws IOException {
        Path mar = TestData.root().resolve("testdata/mar/classifier.mar");
        if (!version.equals("1.0")) {
            mar = reversioned(mar, version);
        }
        return new MarImporter(ExtractionLimits.defaults()).importMar(mar, repository, 0);
    }

    /** A copy of {@code mar} whose manifest says {@code version}. */
    private Path reversioned(Path mar, String version) throws IOException {
        Path copy = scratch.resolve("classifier-" + version + ".mar");
        try (ZipFile in = new ZipFile(mar.toFile()); OutputStream file = Files.newOutputStream(copy);
                ZipOutputStream out = new ZipOutputStream(file)) {
            for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements();) {
                ZipEntry entry = e.nextElement();
                out.putNextEntry(new ZipEntry(entry.getName()));
                try (InputStream data = in.getInputStream(entry)) {
                    byte[] bytes = data.readAllBytes();
                    if (entry.getName().equals("MAR-INF/MANIFEST.json")) {
                        bytes = new String(bytes, StandardCharsets.UTF_8)
                                .replace("\"modelVersion\": \"1.0\"", "\"modelVersion\": \"" + version + "\"")
                                .getBytes(StandardCharsets.UTF_8);
                    }
                    out.write(bytes);
                }
                out.closeEntry();
            }
        }
        return copy;
    }

    private HttpResponse<String> manage(String method, String path) {
        return harness.manage(method, path);
    }

    private static JsonNode json(HttpResponse<String> r) {
        return ServerHarness.json(r);
    }

    private static void assertStatus(HttpResponse<String> r, int status, String message) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        if (message != null) {
            JsonNode body = json(r);
            assertThat(body.has("status") ? body.get("status").asText() : body.get("error").asText())
                    .as(r.body()).contains(message);
        }
    }

    /** The rocket photo through TorchServe's inference API gets PyTorch's top-5 labels. */
    private void classifies(String path) {
        HttpResponse<String> r = harness.send(HttpRequest.newBuilder(harness.base.resolve(path))
                .header("Content-Type", "image/jpeg")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ImageClassifierTest.image("rocket.jpg"))));
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        ImageClassifierTest.assertTop5(json(r), "rocket.jpg");
    }

    /** Polls describe until {@code condition} holds for the model's description (a bounded wait, no sleep). */
    private JsonNode awaitDescription(String path, Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<String> r = manage("GET", path);
            if (r.statusCode() == 200 && condition.test(json(r))) {
                return json(r);
            }
            assertThat(System.nanoTime()).as("%s: %s", path, r.body()).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aTorchServeScriptsLifeOfAModel() throws IOException {
        start(List.of());
        importMar(repo, "1.0");

        // Register with every documented parameter, synchronously, with workers.
        HttpResponse<String> registered = manage("POST", "/models?url=" + MODEL + "&model_name=" + MODEL
                + "&handler=image_classifier&runtime=python&batch_size=4&max_batch_delay=50&initial_workers=2"
                + "&synchronous=true&response_timeout=120&startup_timeout=120&s3_sse_kms=false");
        assertStatus(registered, 200, "Model \"tinyresnet\" Version: 1.0 registered with 2 initial workers");
        classifies("/predictions/" + MODEL);
        classifies("/predictions/" + MODEL + "/1.0");

        // Describe: the default version, a version by its name, every version; 404 for unknown ones.
        JsonNode described = json(manage("GET", "/models/" + MODEL)).get(0);
        assertThat(described.get("modelName").asText()).isEqualTo(MODEL);
        assertThat(described.get("modelVersion").asText()).isEqualTo("1.0");
        assertThat(described.get("minWorkers").asInt()).isEqualTo(2);
        assertThat(described.get("workers")).hasSize(2);
        assertThat(described.get("jobQueueStatus").get("pendingRequests").asInt()).isZero();
        assertThat(json(manage("GET", "/models/" + MODEL + "/1.0")).get(0).get("modelVersion").asText())
                .isEqualTo("1.0");
        assertThat(json(manage("GET", "/models/" + MODEL + "/1")).get(0).get("modelVersion").asText())
                .as("the folder's number names it too").isEqualTo("1.0");
        assertStatus(manage("GET", "/models/" + MODEL + "/9.9"), 404, "has no version '9.9'");
        assertStatus(manage("GET", "/models/nope"), 404, "unknown model 'nope'");
        assertStatus(manage("GET", "/models/nope/1.0"), 404, null);
        assertStatus(harness.post("/predictions/" + MODEL + "/9.9", "[]"), 404, "has no version '9.9'");

        // Scale up in the background (TorchServe's default), then classify.
        assertStatus(manage("PUT", "/models/" + MODEL + "?min_worker=3"), 202, "Processing worker updates...");
        awaitDescription("/models/" + MODEL, d -> d.get(0).get("workers").size() == 3);
        classifies("/predictions/" + MODEL);
        // Scale one version down, waiting for it.
        assertStatus(manage("PUT", "/models/" + MODEL + "/1.0?min_worker=1&synchronous=true"), 200,
                "Workers scaled to 1 for model: tinyresnet, version: 1.0");
        assertThat(json(manage("GET", "/models/" + MODEL)).get(0).get("workers")).hasSize(1);
        classifies("/predictions/" + MODEL);

        // Another version, from another archive of the model, registered in the background.
        assertThat(importMar(repo, "2.0").folder()).isEqualTo(repo.resolve(MODEL).resolve("2"));
        assertStatus(manage("POST", "/models?url=" + MODEL + "&synchronous=false&initial_workers=1"), 202,
                "Processing worker updates...");
        awaitDescription("/models/" + MODEL + "/2.0", d -> d.get(0).get("state").asText().equals("READY"));
        assertStatus(manage("POST", "/models?url=" + MODEL), 409,
                "Model version 1.0, 2.0 is already registered for model tinyresnet");
        assertThat(json(manage("GET", "/models/" + MODEL + "/all")).findValuesAsText("modelVersion"))
                .containsExactly("1.0", "2.0");
        classifies("/predictions/" + MODEL + "/2.0");

        // Set the default.
        assertStatus(manage("PUT", "/models/" + MODEL + "/2.0/set-default"), 200,
                "Default version successfully updated for model \"tinyresnet\" to \"2.0\"");
        assertThat(json(manage("GET", "/models/" + MODEL)).get(0).get("modelVersion").asText()).isEqualTo("2.0");
        classifies("/predictions/" + MODEL);
        assertStatus(manage("PUT", "/models/" + MODEL + "/9.9/set-default"), 404, "has no version '9.9'");

        // Unregister: not the default while another version remains; then one version; then the model.
        assertStatus(manage("DELETE", "/models/" + MODEL + "/2.0"), 403, "Cannot remove default version");
        assertStatus(manage("DELETE", "/models/" + MODEL + "/9.9"), 404, null);
        assertStatus(manage("DELETE", "/models/" + MODEL + "/1.0"), 200, "Model \"tinyresnet\" unregistered");
        classifies("/predictions/" + MODEL + "/2.0");
        assertStatus(manage("DELETE", "/models/" + MODEL), 200, "Model \"tinyresnet\" unregistered");
        assertStatus(manage("DELETE", "/models/" + MODEL), 404, null);
        assertStatus(harness.post("/predictions/" + MODEL, "[]"), 404, null);
    }

    @Test
    void parametersFallBackToTorchServesDefaultsWhereTorchServeDoes() throws IOException {
        start(List.of());
        importMar(repo, "1.0");
        assertStatus(manage("POST", "/models?url=" + MODEL + "&initial_workers=-3"), 200,
                "registered with 1 initial workers");

        // Scaling: no parameters, or numbers that are not numbers, mean min_worker=1; number_gpu and
        // timeout are ignored; the call answers at once.
        assertStatus(manage("PUT", "/models/" + MODEL), 202, "Processing worker updates...");
        assertStatus(manage("PUT", "/models/" + MODEL + "?min_worker=nan&number_gpu=4&timeout=-1"), 202, null);
        assertStatus(manage("PUT", "/models/" + MODEL + "?min_worker=2&timeout=0&synchronous=true"), 200,
                "Workers scaled to 2 for model: tinyresnet");
        // What TorchServe also refuses.
        assertStatus(manage("PUT", "/models/" + MODEL + "?min_worker=2&max_worker=1"), 400,
                "max_worker cannot be less than min_worker.");
        assertStatus(manage("PUT", "/models/nope?min_worker=1"), 404, null);
        assertStatus(manage("PUT", "/models/" + MODEL + "/9.9?min_worker=1"), 404, null);
        awaitDescription("/models/" + MODEL, d -> d.get(0).get("workers").size() == 2);

        // Listing: empty, negative and oversized limits and tokens take the defaults.
        for (String query : List.of("limit=", "limit=-1", "limit=1000", "next_page_token=-5", "limit=x")) {
            HttpResponse<String> list = manage("GET", "/models?" + query);
            assertStatus(list, 200, null);
            assertThat(json(list).get("models").findValuesAsText("modelName")).as(query).containsExactly(MODEL);
        }
        assertThat(json(manage("GET", "/models?limit=0")).get("models")).isEmpty();

        // Registration: what TorchServe refuses, torchlight refuses.
        assertStatus(manage("POST", "/models"), 400, "Parameter url is required");
        assertStatus(manage("POST", "/models?url="), 404, "empty url");
        assertStatus(manage("POST", "/models?url=missing"), 404, null);
        assertStatus(manage("POST", "/models?url=" + MODEL + "&runtime=PYTHON"), 400,
                "Invalid RuntimeType value: PYTHON");
        assertStatus(manage("POST", "/models?url=" + MODEL + "&handler=my_handler.py:handle&model_name=other"), 400,
                "torchlight takes a model's handler from its config.yaml");
    }

    @Test
    void aModelRegisteredUnderAnotherNameOrFromOutsideTheRepositoryKeepsItsLabels() throws IOException {
        start(List.of(java.util.regex.Pattern.quote(elsewhere.toString()) + "/.*"));
        importMar(repo, "1.0");
        importMar(elsewhere, "1.0");

        assertStatus(manage("POST", "/models?url=" + MODEL + "&model_name=renamed"), 200,
                "Model \"renamed\" Version: 1.0 registered");
        classifies("/predictions/renamed");

        // Labels (index_to_name.json) are read where the model was registered from, in the repository
        // or not: a handler looking under the repository for "renamed" or "outside" would find none
        // and answer class indices.
        assertStatus(manage("POST", "/models?url=" + elsewhere.resolve(MODEL) + "&model_name=outside"), 200, null);
        classifies("/predictions/outside");
        assertStatus(manage("POST", "/models?url=" + MODEL + "&model_name=outside"), 409,
                "is already registered from " + elsewhere);

        // A JSON body carries the same parameters.
        HttpResponse<String> json = harness.send(HttpRequest.newBuilder(harness.management.resolve("/models"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"" + MODEL + "\", \"model_name\": \"third\","
                        + " \"initial_workers\": 2, \"synchronous\": true}")));
        assertStatus(json, 200, "Model \"third\" Version: 1.0 registered with 2 initial workers");
        classifies("/predictions/third/1.0");
    }

    @Test
    void workersRegisteredOrScaledKeepTheHandler() throws IOException {
        start(List.of());
        importMar(repo, "1.0");
        assertStatus(manage("POST", "/models?url=" + MODEL + "&initial_workers=3"), 200, null);
        classifies("/predictions/" + MODEL);
        for (int workers : new int[] {1, 2}) {
            assertStatus(manage("PUT", "/models/" + MODEL + "?min_worker=" + workers + "&synchronous=true"), 200, null);
            classifies("/predictions/" + MODEL);
        }
    }
}
