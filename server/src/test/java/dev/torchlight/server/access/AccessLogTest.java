package dev.torchlight.server.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
    @TempDir
    Path dir;

    @Test
    void theModelAndVersionOfAFailedRequestComeFromItsPath() {
        assertThat(AccessLogFormat.modelAndVersion("/v2/models/mlp/infer")).containsExactly("mlp", null);
        assertThat(AccessLogFormat.modelAndVersion("/v2/models/mlp/versions/2/infer")).containsExactly("mlp", "2");
        assertThat(AccessLogFormat.modelAndVersion("/predictions/mlp")).containsExactly("mlp", null);
        assertThat(AccessLogFormat.modelAndVersion("/predictions/mlp/3")).containsExactly("mlp", "3");
        assertThat(AccessLogFormat.modelAndVersion("/v2/models/stats")).containsExactly(null, null);
        assertThat(AccessLogFormat.modelAndVersion("/ping")).containsExactly(null, null);
    }

    @Test
    void everyRecordedEntryIsOneJsonLineOnceClosed() throws IOException {
        Path file = dir.resolve("sub/access.log");
        FileAccessLog log = FileAccessLog.open(file);
        assertThat(log.enabled()).isTrue();
        log.record(new AccessEntry(0, "POST", "/v2/models/mlp/infer?x=1", "mlp", 2, 200, 4, 1_500, 250_000,
                400_000, 1024, 77));
        log.record(new AccessEntry(1_000, "POST", "/predictions/other/7", null, 0, 503, 0, 0, 0, 9_000, 5, 40));
        log.close();
        assertThat(log.enabled()).isFalse();

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertThat(first.get("time").asText()).isEqualTo("1970-01-01T00:00:00Z");
        assertThat(first.get("path").asText()).isEqualTo("/v2/models/mlp/infer");
        assertThat(first.get("model").asText()).isEqualTo("mlp");
        assertThat(first.get("version").asText()).isEqualTo("2");
        assertThat(first.get("status").asInt()).isEqualTo(200);
        assertThat(first.get("rows").asInt()).isEqualTo(4);
        assertThat(first.get("queue_us").asLong()).isEqualTo(1);
        assertThat(first.get("compute_us").asLong()).isEqualTo(250);
        assertThat(first.get("duration_us").asLong()).isEqualTo(400);
        assertThat(first.get("bytes_in").asLong()).isEqualTo(1024);
        assertThat(first.get("bytes_out").asLong()).isEqualTo(77);
        JsonNode second = json.readTree(lines.get(1));
        assertThat(second.get("model").asText()).isEqualTo("other");
        assertThat(second.get("version").asText()).isEqualTo("7");
        assertThat(second.get("status").asInt()).isEqualTo(503);
    }

    @Test
    void theOffLogIsDisabled() {
        assertThat(AccessLog.OFF.enabled()).isFalse();
    }
}
