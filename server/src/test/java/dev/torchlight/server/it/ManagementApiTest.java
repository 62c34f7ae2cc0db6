package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every management call and status code, the token rules and the registration allowlist, on the real server. */
class ManagementApiTest {
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";

    @TempDir
    Path repo;

    @TempDir
    Path elsewhere;

    private ServerHarness harness;

    @AfterEach
    void close() {
        if (harness != null) {
            harness.close();
        }
    }

    private ServerHarness start(List<String> models, ModelControl control, SecurityConfig security) {
        TestData.copyModels(repo, "mlp", "no_batch");
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, models, ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null,
                new ManagementConfig("127.0.0.1", 0, control, Duration.ofSeconds(30), Duration.ofSeconds(10)),
                security, 0, dev.torchlight.config.HandlerConfig.defaults()));
        return harness;
    }

    private ServerHarness start(List<String> models) {
        return start(models, ModelControl.EXPLICIT, SecurityConfig.defaults());
    }

    private HttpResponse<String> withToken(String method, String path, String token) {
        HttpRequest.Builder r = HttpRequest.newBuilder(harness.management.resolve(path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            r.header("Authorization", token);
        }
        return harness.send(r);
    }

    private static void assertStatus(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    }

    // --- tokens

    @Test
    void managementNeedsTheManagementKey() throws IOException {
        start(List.of("mlp"));
        HttpResponse<String> none = withToken("GET", "/models", null);
        assertStatus(none, 401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(none.body()).contains("Authorization: Bearer");
        assertStatus(withToken("GET", "/models", "Bearer not-the-key"), 403);
        assertStatus(withToken("GET", "/models", "Basic " + harness.server.keys().management()), 403);
        assertStatus(withToken("GET", "/models", "Bearer " + harness.server.keys().inference()), 403);
        assertStatus(withToken("GET", "/models", "Bearer " + harness.server.keys().management()), 200);
        assertStatus(withToken("GET", "/no/such/path", null), 401);

        Path keyFile = harness.server.keyFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        assertThat(Files.readString(keyFile)).contains(harness.server.keys().management())
                .contains(harness.server.keys().inference());
        assertThat(harness.server.keys().management()).hasSizeGreaterThanOrEqualTo(43)
                .isNotEqualTo(harness.server.keys().inference());
        // Inference needs no key by default.
        assertStatus(harness.post("/v2/models/mlp/infer", ROW), 200);
    }

    @Test
    void inferenceTokenProtectsInferenceButNotTheProbes(@TempDir Path keys) throws IOException {
        Path keyFile = keys.resolve("nested/keys.json");
        start(List.of("mlp"), ModelControl.EXPLICIT, new SecurityConfig(true, true, keyFile, List.of(), null, null));
        assertThat(harness.server.keyFile()).isEqualTo(keyFile.toAbsolutePath());
        assertStatus(harness.post("/v2/models/mlp/infer", ROW), 401);
        assertStatus(harness.send(HttpRequest.newBuilder(harness.base.resolve("/v2/models/mlp/infer"))
                .header("Authorization", "Bearer " + harness.server.keys().management())
                .POST(HttpRequest.BodyPublishers.ofString(ROW))), 403);
        assertStatus(harness.send(HttpRequest.newBuilder(harness.base.resolve("/v2/models/mlp/infer"))
                .header("Authorization", "Bearer " + harness.server.keys().inference())
                .POST(HttpRequest.BodyPublishers.ofString(ROW))), 200);
        assertStatus(harness.get("/v2/health/ready"), 200);
        assertStatus(harness.get("/ping"), 200);
    }

    @Test
    void disabledTokenAuthOpensTheManagementApi() {
        TestData.copyModels(repo, "mlp");
        harness = ServerHarness.withoutTokens(repo, List.of("mlp"));
        assertThat(harness.server.keys()).isNull();
        assertThat(harness.server.keyFile()).isNull();
        assertStatus(withToken("GET", "/models", null), 200);
    }

    // --- describing and changing models

    @Test
    void listDescribeScaleSetDefaultAndUnregister() {
        start(List.of());
        JsonNode list = ServerHarness.json(harness.manage("GET", "/models"));
        assertThat(list.get("models").findValuesAsText("modelName")).containsExactly("mlp", "no_batch");
        JsonNode page = ServerHarness.json(harness.manage("GET", "/models?limit=1"));
        assertThat(page.get("models")).hasSize(1);
        assertThat(page.get("nextPageToken").asText()).isEqualTo("1");
        assertThat(ServerHarness.json(harness.manage("GET", "/models?limit=1&next_page_token=1"))
                .get("models").get(0).get("modelName").asText()).isEqualTo("no_batch");

        JsonNode mlp = ServerHarness.json(harness.manage("GET", "/models/mlp"));
        assertThat(mlp).hasSize(1);
        assertThat(mlp.get(0).get("modelVersion").asText()).isEqualTo("2");
        assertThat(mlp.get(0).get("isDefault").asBoolean()).isTrue();
        assertThat(mlp.get(0).get("state").asText()).isEqualTo("READY");
        assertThat(mlp.get(0).get("workers")).hasSize(1);
        assertThat(mlp.get(0).get("workers").get(0).get("status").asText()).isEqualTo("READY");
        assertThat(ServerHarness.json(harness.manage("GET", "/models/mlp/all")).findValuesAsText("modelVersion"))
                .containsExactly("1", "2");
        assertThat(ServerHarness.json(harness.manage("GET", "/models/mlp/1")).get(0).get("isDefault").asBoolean())
                .isFalse();
        assertStatus(harness.manage("GET", "/models/nope"), 404);
        assertStatus(harness.manage("GET", "/models/mlp/7"), 404);
        assertStatus(harness.manage("GET", "/models/mlp/x"), 404);

        HttpResponse<String> setDefault = harness.manage("PUT", "/models/mlp/1/set-default");
        assertStatus(setDefault, 200);
        assertThat(ServerHarness.json(setDefault).get("status").asText())
                .isEqualTo("Default version successfully updated for model \"mlp\" to \"1\"");
        assertThat(ServerHarness.json(harness.post("/v2/models/mlp/infer", ROW)).get("model_version").asText())
                .isEqualTo("1");
        assertStatus(harness.manage("PUT", "/models/mlp/9/set-default"), 404);
        assertStatus(harness.manage("GET", "/models/mlp/1/set-default"), 405);

        // Scaling the default version (now 1), waiting for it.
        HttpResponse<String> scaled = harness.manage("PUT", "/models/mlp?min_worker=2&synchronous=true");
        assertStatus(scaled, 200);
        assertThat(ServerHarness.json(scaled).get("status").asText()).isEqualTo("Workers scaled to 2 for model: mlp");
        assertThat(ServerHarness.json(harness.manage("GET", "/models/mlp/1")).get(0).get("workers")).hasSize(2);
        assertThat(ServerHarness.json(harness.manage("GET", "/models/mlp/2")).get(0).get("workers")).hasSize(1);
        assertStatus(harness.manage("PUT", "/models/mlp?min_worker=0"), 400);

        // The default version cannot go while another remains, as in TorchServe.
        assertStatus(harness.manage("DELETE", "/models/mlp/1"), 403);
        assertStatus(harness.manage("PUT", "/models/mlp/2/set-default"), 200);
        assertStatus(harness.manage("DELETE", "/models/mlp/1"), 200);
        assertStatus(harness.manage("GET", "/models/mlp/1"), 404);
        assertThat(ServerHarness.json(harness.post("/v2/models/mlp/infer", ROW)).get("model_version").asText())
                .isEqualTo("2");
        HttpResponse<String> deleted = harness.manage("DELETE", "/models/mlp");
        assertStatus(deleted, 200);
        assertThat(ServerHarness.json(deleted).get("status").asText()).isEqualTo("Model \"mlp\" unregistered");
        assertStatus(harness.post("/v2/models/mlp/infer", ROW), 404);
        assertStatus(harness.manage("DELETE", "/models/mlp"), 404);
        assertStatus(harness.manage("PATCH", "/models"), 405);
    }

    @Test
    void registrationFromTheRepositoryAndTheAllowlist() throws IOException {
        start(List.of("mlp"));
        assertStatus(harness.post("/v2/models/no_batch/ready", ""), 405);
        HttpResponse<String> registered = harness.manage("POST", "/models?url=no_batch&initial_workers=2");
        assertStatus(registered, 200);
        assertThat(ServerHarness.json(registered).get("status").asText())
                .isEqualTo("Model \"no_batch\" Version: 1 registered with 2 initial workers");
        assertStatus(harness.get("/v2/models/no_batch/ready"), 200);
        assertStatus(harness.manage("POST", "/models?url=no_batch"), 409);
        assertStatus(harness.manage("POST", "/models?url=" + repo.resolve("no_batch").toUri()), 409);

        assertStatus(harness.manage("POST", "/models"), 400);
        assertStatus(harness.manage("POST", "/models?url=missing"), 404);
        assertStatus(harness.manage("POST", "/models?url=mlp/config.yaml"), 400);
        HttpResponse<String> renamed = harness.manage("POST", "/models?url=no_batch&model_name=other");
        assertStatus(renamed, 200);
        assertThat(ServerHarness.json(renamed).get("status").asText())
                .isEqualTo("Model \"other\" Version: 1 registered with 1 initial workers");
        assertStatus(harness.get("/v2/models/other/ready"), 200);

        // Outside the repository: refused before anything is read.
        TestData.copyModels(elsewhere, "no_batch");
        HttpResponse<String> outside = harness.manage("POST", "/models?url=" + elsewhere.resolve("no_batch"));
        assertStatus(outside, 403);
        assertThat(outside.body()).contains("outside the model repository").contains("--allowed-urls");
        assertStatus(harness.manage("POST", "/models?url=../../etc"), 403);
        assertStatus(harness.manage("POST", "/models?url=/etc/passwd"), 403);
        assertStatus(harness.manage("POST", "/models?url=file:///etc/passwd"), 403);
        assertStatus(harness.manage("POST", "/models?url=ftp://example.com/m.tlar"), 403);
        assertStatus(harness.manage("POST", "/models?url=http://127.0.0.1:1/m.tlar"), 403);
        // A link inside the repository that points out of it is outside.
        Files.createSymbolicLink(repo.resolve("sneaky"), elsewhere.resolve("no_batch"));
        assertStatus(harness.manage("POST", "/models?url=sneaky"), 403);
    }

    @Test
    void allowedUrlsOpenMoreThanTheRepository() {
        TestData.copyModels(elsewhere, "no_batch");
        start(List.of("mlp"), ModelControl.EXPLICIT, new SecurityConfig(true, false, null,
                List.of(java.util.regex.Pattern.quote(elsewhere.toString()) + "/.*"), null, null));
        assertStatus(harness.manage("POST", "/models?url=" + elsewhere.resolve("no_batch")), 200);
        assertStatus(harness.get("/v2/models/no_batch/ready"), 200);
    }

    @Test
    void repositoryExtension() {
        start(List.of("mlp"));
        JsonNode index = ServerHarness.json(harness.manage("POST", "/v2/repository/index"));
        assertThat(index.findValuesAsText("name")).containsExactly("mlp", "mlp", "no_batch");
        assertThat(index.get(2).get("state").asText()).isEqualTo("UNAVAILABLE");
        assertThat(index.get(2).get("reason").asText()).isEqualTo("unloaded");

        assertStatus(harness.manage("POST", "/v2/repository/models/no_batch/load"), 200);
        assertStatus(harness.get("/v2/models/no_batch/ready"), 200);
        assertStatus(harness.manage("POST", "/v2/repository/models/no_batch/load"), 200);
        assertStatus(harness.manage("POST", "/v2/repository/models/missing/load"), 404);
        assertStatus(harness.manage("POST", "/v2/repository/models/mlp/unload"), 200);
        assertStatus(harness.post("/v2/models/mlp/infer", ROW), 404);
        assertStatus(harness.manage("POST", "/v2/repository/models/mlp/unload"), 404);
        assertStatus(harness.manage("GET", "/v2/repository/index"), 405);
        JsonNode ready = ServerHarness.json(harness.send(HttpRequest.newBuilder(harness.management.resolve(
                "/v2/repository/index")).header("Authorization", "Bearer " + harness.server.keys().management())
                .POST(HttpRequest.BodyPublishers.ofString("{\"ready\": true}"))));
        assertThat(ready.findValuesAsText("name")).containsExactly("no_batch");
    }

    @Test
    void pollModeLeavesLoadingToTheRepository() {
        start(List.of("mlp"), ModelControl.POLL, SecurityConfig.defaults());
        HttpResponse<String> refused = harness.manage("POST", "/models?url=no_batch");
        assertStatus(refused, 409);
        assertThat(refused.body()).contains("--model-control poll");
        assertStatus(harness.manage("DELETE", "/models/mlp"), 409);
        assertStatus(harness.manage("POST", "/v2/repository/models/mlp/unload"), 409);
        assertStatus(harness.manage("PUT", "/models/mlp/1/set-default"), 200);
    }
}
