package dev.torchlight.bench.result;

import java.util.Map;

/**
 * One level of a sweep: a concurrency (closed loop), a rate (open loop) or a batch size (raw).
 *
 * @param concurrency requests in flight (closed loop) or engine threads (raw); null for open loop
 * @param rate target requests per second (open loop); null otherwise
 * @param batchSize rows per request (per engine call in raw mode)
 * @param throughputRps successful requests per second during the measured window (errors excluded)
 * @param itemsPerS rows per second ({@code throughputRps * batchSize} for successes)
 * @param p50Ms median latency in milliseconds
 * @param p90Ms 90th percentile latency in milliseconds
 * @param p99Ms 99th percentile latency in milliseconds
 * @param p999Ms 99.9th percentile latency in milliseconds
 * @param maxMs largest latency in milliseconds
 * @param requests requests completed in the measured window (successes and errors)
 * @param errors failed requests in the measured window
 * @param errorsByKind failed requests by kind ({@code connect}, {@code timeout}, {@code closed},
 *     {@code http_503}, ...)
 * @param behindSchedule open loop: sends that left more than 1 ms after their intended time
 */
public record LevelResult(
        Integer concurrency,
        Double rate,
        int batchSize,
        double throughputRps,
        double itemsPerS,
        double p50Ms,
        double p90Ms,
        double p99Ms,
        double p999Ms,
        double maxMs,
        long requests,
        long errors,
        Map<String, Long> errorsByKind,
        long behindSchedule) {

    public LevelResult {
        errorsByKind = Map.copyOf(errorsByKind);
    }
}
