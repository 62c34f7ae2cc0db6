package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.http.json.JsonTensorReader;
import dev.torchlight.server.inference.Base64Payload;
import java.io.IOException;
import java.util.List;

/**
 * The data of a v2 {@code BYTES} input, read as items for a model's handler: (nested) arrays of
 * base64 strings, each string one item (an image file, say), decoded in order.
 */
final class BytesItems {
    private BytesItems() {}

    /**
     * Adds the input's items to {@code items}; the parser is on the data's opening bracket and is
     * left on its closing one.
     *
     * @throws dev.torchlight.api.ServingException.InvalidInput for anything but base64 strings
     */
    static void read(JsonParser p, String name, List<HandlerItem> items) throws IOException {
        int depth = 0;
        do {
            JsonToken token = p.currentToken();
            if (token == JsonToken.START_ARRAY) {
                depth++;
            } else if (token == JsonToken.END_ARRAY) {
                depth--;
            } else if (token == JsonToken.VALUE_STRING) {
                String where = "input '" + name + "' element " + items.size();
                items.add(new HandlerItem(name, null, Base64Payload.decode(p.getText(), where)));
            } else {
                throw V2RequestReader.invalid("input '" + name + "' is BYTES: expected its data to be base64"
                        + " strings (one per image), got " + (token == null ? "the end" : p.getText()));
            }
            if (depth > JsonTensorReader.MAX_RANK) {
                throw V2RequestReader.invalid("input '" + name + "': 'data' is nested more than "
                        + JsonTensorReader.MAX_RANK + " deep");
            }
            if (depth > 0) {
                p.nextToken();
            }
        } while (depth > 0);
    }
}
