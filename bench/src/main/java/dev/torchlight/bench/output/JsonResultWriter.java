package dev.torchlight.bench.output;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes and reads a {@link BenchReport} as JSON: {@code {tool, version, date, host:{cores, cpu, os,
 * java}, url, model, protocol, results:[{concurrency, rate, throughput_rps, items_per_s, p50_ms,
 * p90_ms, p99_ms, p999_ms, max_ms, requests, errors, batch_size, errors_by_kind,
 * behind_schedule}], note}}. Every key is always present; absent values are {@code null}.
 */
public final class JsonResultWriter {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            // errors_by_kind comes from an unordered map; sorted keys keep files diffable.
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            // Files from a newer bench may carry more keys; they are not this reader's business.
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addMixIn(BenchReport.class, ReportOrder.class)
            .addMixIn(LevelResult.class, LevelOrder.class)
            .addMixIn(HostInfo.class, HostOrder.class)
            .build();

    private JsonResultWriter() {}

    /** The mapper behind this class: snake_case keys in the documented order. */
    static ObjectMapper mapper() {
        return MAPPER;
    }

    /** The report as indented JSON. */
    public static String toJson(BenchReport report) {
        try {
            return MAPPER.writeValueAsString(report) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the report to {@code file}, creating its parent folders. */
    public static void write(BenchReport report, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson(report));
    }

    /** Reads a report written by {@link #write}. */
    public static BenchReport read(Path file) throws IOException {
        try {
            return MAPPER.readValue(file.toFile(), BenchReport.class);
        } catch (IOException e) {
            throw new IOException(file + ": not a bench result: " + e.getMessage(), e);
        }
    }

    /** Parses a report from JSON text. */
    public static BenchReport fromJson(String json) throws IOException {
        return MAPPER.readValue(json, BenchReport.class);
    }

    @JsonPropertyOrder({"tool", "version", "date", "host", "url", "model", "protocol", "results", "note"})
    private abstract static class ReportOrder {}

    @JsonPropertyOrder({"cores", "cpu", "os", "java"})
    private abstract static class HostOrder {}

    // The keys first, in its order; the extras after them.
    @JsonPropertyOrder({"concurrency", "rate", "throughput_rps", "items_per_s", "p50_ms", "p90_ms", "p99_ms",
        "p999_ms", "max_ms", "requests", "errors", "batch_size", "errors_by_kind", "behind_schedule"})
    private abstract static class LevelOrder {}
}
