package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.http.PreparedRequest;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProtocolTest {
    private static final URI URL = URI.create("http://127.0.0.1:8080");

    @Test
    void namesRoundTripAndUnknownNamesListTheKnownOnes() {
        for (Protocol p : Protocol.values()) {
            assertThat(Protocol.fromWireName(p.wireName())).isSameAs(p);
        }
        assertThatIllegalArgumentException().isThrownBy(() -> Protocol.fromWireName("thrift"))
                .withMessageContaining("v2-json, v2-binary, grpc, grpc-stream, torchserve, health");
    }

    @Test
    void pathsAddressTheModelAndOptionallyItsVersion() {
        LoadOptions plain = options(Protocol.V2_JSON, null);
        LoadOptions versioned = options(Protocol.V2_JSON, "2");
        assertThat(Protocol.V2_JSON.path(plain)).isEqualTo("/v2/models/my%20model/infer");
        assertThat(Protocol.V2_JSON.path(versioned)).isEqualTo("/v2/models/my%20model/versions/2/infer");
        assertThat(Protocol.TORCHSERVE.path(plain)).isEqualTo("/predictions/my%20model");
        assertThat(Protocol.TORCHSERVE.path(versioned)).isEqualTo("/predictions/my%20model/2");
        assertThat(Protocol.HEALTH.path(plain)).isEqualTo("/v2/health/live");
    }

    @Test
    void requestsArePostsWithJsonOrBareGets() {
        HttpTarget target = HttpTarget.of(URL);
        try (PreparedRequest post = Protocol.V2_JSON.request(target, options(Protocol.V2_JSON, null), "{}".getBytes());
                PreparedRequest get = Protocol.HEALTH.request(target, options(Protocol.HEALTH, null), null)) {
            assertThat(post.asString()).startsWith("POST /v2/models/my%20model/infer HTTP/1.1\r\n")
                    .contains("Content-Type: application/json\r\n", "Content-Length: 2\r\n").endsWith("\r\n\r\n{}");
            assertThat(get.asString()).startsWith("GET /v2/health/live HTTP/1.1\r\n").doesNotContain("Content-Length");
        }
    }

    @Test
    void twoHundredsSucceedAndOtherStatusesCountByCode() {
        assertThat(Protocol.V2_JSON.judge(200)).isNull();
        assertThat(Protocol.TORCHSERVE.judge(204)).isNull();
        assertThat(Protocol.V2_JSON.judge(503)).isEqualTo("http_503");
        assertThat(Protocol.HEALTH.judge(404)).isEqualTo("http_404");
        assertThat(Protocol.V2_JSON.judge(301)).isEqualTo("http_301");
        assertThat(Protocol.V2_JSON.judge(999)).isEqualTo("http_999");
    }

    @Test
    void torchServeCarriesExactlyOneInput() {
        InputGenerator generator = new InputGenerator(1);
        List<InputTensor> two = generator.next(List.of(new InputSpec("a", Datatype.FP32, new long[] {2}),
                new InputSpec("b", Datatype.FP32, new long[] {2})), 1);
        assertThatThrownBy(() -> Protocol.TORCHSERVE.encode(two)).isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("v2-json");
    }

    private static LoadOptions options(Protocol protocol, String version) {
        return LoadOptions.builder(URL, "my model").protocol(protocol).concurrency(List.of(1)).modelVersion(version)
                .build();
    }
}
