package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.ServingException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/** Writes a handler's answer (strings, numbers, booleans, lists and string-keyed maps) as JSON. */
public final class AnswerJson {
    private static final int MAX_DEPTH = 64;

    private AnswerJson() {}

    public static void write(JsonGenerator g, Object value) throws IOException {
        write(g, value, 0);
    }

    private static void write(JsonGenerator g, Object value, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new ServingException.Internal("a handler's answer is nested more than " + MAX_DEPTH + " deep", null);
        }
        switch (value) {
            case null -> g.writeNull();
            case String s -> g.writeString(s);
            case Boolean b -> g.writeBoolean(b);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Short s -> g.writeNumber(s);
            case Byte b -> g.writeNumber(b);
            case Float f -> g.writeNumber(f);
            case Double d -> g.writeNumber(d);
            case BigInteger b -> g.writeNumber(b);
            case BigDecimal b -> g.writeNumber(b);
            case Map<?, ?> map -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, e.getValue(), depth + 1);
                }
                g.writeEndObject();
            }
            case List<?> list -> {
                g.writeStartArray();
                for (Object item : list) {
                    write(g, item, depth + 1);
                }
                g.writeEndArray();
            }
            default -> throw new ServingException.Internal("a handler answered a " + value.getClass().getName()
                    + "; expected strings, numbers, booleans, lists or maps", null);
        }
    }
}
