package dev.torchlight.server.access;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an {@link AccessEntry} as one JSON object per line: {@code time, method, path, model,
 * version, status, rows, queue_us, compute_us, duration_us, bytes_in, bytes_out}. Runs on the
 * log's writer thread, so deriving the model from the path costs the request nothing.
 */
final class AccessLogFormat {
    private AccessLogFormat() {}

    static void write(JsonGenerator g, AccessEntry e) throws IOException {
        String path = pathOf(e.uri());
        String model = e.model();
        String version = e.version() > 0 ? Long.toString(e.version()) : null;
        if (model == null) {
            String[] fromPath = modelAndVersion(path);
            model = fromPath[0];
            version = fromPath[1];
        }
        g.writeStartObject();
        g.writeStringField("time", Instant.ofEpochMilli(e.epochMillis()).toString());
        g.writeStringField("method", e.method());
        g.writeStringField("path", path);
        g.writeStringField("model", model);
        g.writeStringField("version", version);
        g.writeNumberField("status", e.status());
        g.writeNumberField("rows", e.rows());
        g.writeNumberField("queue_us", e.queueNanos() / 1_000);
        g.writeNumberField("compute_us", e.computeNanos() / 1_000);
        g.writeNumberField("duration_us", e.durationNanos() / 1_000);
        g.writeNumberField("bytes_in", e.bytesIn());
        g.writeNumberField("bytes_out", e.bytesOut());
        g.writeEndObject();
        g.writeRaw('\n');
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    /**
     * Model and version named by an inference or model path ({@code /v2/models/m[/versions/v]/...},
     * {@code /predictions/m[/v]}); nulls when the path names none.
     */
    static String[] modelAndVersion(String path) {
        List<String> s = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                s.add(part);
            }
        }
        if (s.size() >= 3 && s.get(0).equals("v2") && s.get(1).equals("models") && !s.get(2).equals("stats")) {
            String version = s.size() >= 5 && s.get(3).equals("versions") ? s.get(4) : null;
            return new String[] {s.get(2), version};
        }
        if (s.size() >= 2 && s.get(0).equals("predictions")) {
            return new String[] {s.get(1), s.size() >= 3 ? s.get(2) : null};
        }
        return new String[] {null, null};
    }
}
