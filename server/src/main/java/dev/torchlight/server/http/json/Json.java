package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;

/** The one Jackson streaming factory of the HTTP front end, and how its errors read to clients. */
public final class Json {
    private Json() {}

    /**
     * Thread-safe. Reads {@code NaN}/{@code Infinity} literals (Python's {@code json} writes them),
     * rejects duplicate keys, keeps request bodies out of error locations, and writes non-finite
     * floats as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}. Its parsers over
     * byte arrays decode lists of plain numbers in tensor data in one pass ({@link JsonTensorReader}).
     */
    public static final JsonFactory FACTORY = new TensorJsonFactory(new JsonFactoryBuilder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            // Tensor data is mostly floats: the JDK's parser was the largest cost of a JSON request.
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS));

    /** "malformed JSON at line 1, column 12: Unexpected character ..." without source text or stack. */
    public static String describe(IOException e) {
        if (e instanceof JsonProcessingException jpe) {
            JsonLocation at = jpe.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            return "malformed JSON" + where + ": " + firstLine(jpe.getOriginalMessage());
        }
        return "unreadable JSON: " + e.getMessage();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
