package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import org.junit.jupiter.api.Test;

/** A request path becomes its decoded, non-empty segments; the query does not count. */
class HttpPathsTest {

    @Test
    void segmentsDropEmptyOnesAndTheQueryAndAreDecoded() {
        assertThat(HttpPaths.segments("/v2/models/mlp/infer")).containsExactly("v2", "models", "mlp", "infer");
        assertThat(HttpPaths.segments("//v2//models/mlp/?x=/y")).containsExactly("v2", "models", "mlp");
        assertThat(HttpPaths.segments("/v2/models/a%2Fb/ready")).containsExactly("v2", "models", "a/b", "ready");
        assertThat(HttpPaths.segments("ping")).containsExactly("ping");
        assertThat(HttpPaths.segments("/")).isEmpty();
        assertThat(HttpPaths.segments("")).isEmpty();
    }

    @Test
    void aMalformedEscapeIsInvalidInput() {
        assertThatThrownBy(() -> HttpPaths.segments("/v2/models/a%zz"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageStartingWith("malformed path");
    }
}
