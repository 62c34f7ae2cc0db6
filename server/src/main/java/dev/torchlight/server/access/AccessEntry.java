package dev.torchlight.server.access;

/**
 * One answered request, as the front end saw it. Model and version are those that answered;
 * for a failed request they are taken from the path, when it names them.
 *
 * @param epochMillis when the answer was written
 * @param method HTTP method
 * @param uri request target as sent
 * @param model the model that answered, or null (then read from the path)
 * @param version the version that answered, or 0 (then read from the path)
 * @param status HTTP status
 * @param rows rows inferred, 0 when nothing ran
 * @param queueNanos time queued before the engine run, 0 when unknown
 * @param computeNanos duration of the engine run, 0 when unknown
 * @param durationNanos from the request's dispatch to its answer being rendered
 * @param bytesIn request body size
 * @param bytesOut response body size
 */
public record AccessEntry(long epochMillis, String method, String uri, String model, long version, int status,
        int rows, long queueNanos, long computeNanos, long durationNanos, long bytesIn, long bytesOut) {}
