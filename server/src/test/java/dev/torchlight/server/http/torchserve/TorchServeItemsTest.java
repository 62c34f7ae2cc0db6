package dev.torchlight.server.http.torchserve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerItem;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The body readers alone; the endpoint tests cover them over HTTP. */
class TorchServeItemsTest {
    private static final String FORM = "--XyZ\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nabc\r\n--XyZ--\r\n";

    @Test
    void readsAMultipartField() {
        List<HandlerItem> items = TorchServeItems.extract(bytes(FORM), "multipart/form-data; boundary=XyZ");
        assertThat(items).singleElement().satisfies(item -> {
            assertThat(item.name()).isEqualTo("data");
            assertThat(item.data()).isEqualTo(bytes("abc"));
        });
    }

    @Test
    void aContentTypeNoHeaderMayCarryIsInvalidInput() {
        // TorchServeBodyFuzzTest's content-type-with-cr: Netty refuses the value with an IllegalArgumentException.
        assertThatThrownBy(() -> TorchServeItems.extract(bytes(FORM), "multipart/form-data; boundary=XyZ\r--XyZ"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("Content-Type");
    }

    @Test
    void anUnknownCharsetIsInvalidInput() {
        // Netty's decoder wraps a malformed charset name, not an unknown one (multipart-unknown-charset).
        assertThatThrownBy(() -> TorchServeItems.extract(bytes(FORM), "multipart/form-data; boundary=XyZ; charset=nope"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("nope");
    }

    @Test
    void anUnknownCharsetOfAPartIsInvalidInput() {
        String form = "--XyZ\r\nContent-Disposition: form-data; name=\"data\"\r\nContent-Type: text/plain; charset=nope"
                + "\r\n\r\nabc\r\n--XyZ--\r\n";
        assertThatThrownBy(() -> TorchServeItems.extract(bytes(form), "multipart/form-data; boundary=XyZ"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("nope");
    }

    @Test
    void aDispositionParameterWithoutAValueIsInvalidInput() {
        // TorchServeBodyFuzzTest's disposition-parameter-without-equals: Netty's decoder throws an
        // ArrayIndexOutOfBoundsException for it.
        String form = "--XyZ\r\nContent-Disposition: form-data; name=\"data\"; filename\r\n\r\nabc\r\n--XyZ--\r\n";
        assertThatThrownBy(() -> TorchServeItems.extract(bytes(form), "multipart/form-data; boundary=XyZ"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageStartingWith("the form body cannot be read: it is malformed");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
