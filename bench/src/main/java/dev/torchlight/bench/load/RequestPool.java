package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.http.PreparedRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The requests a run sends, encoded once before it starts: a few distinct bodies of random data
 * (so a server cannot cache one answer) that senders cycle through, the one body of
 * {@code --input-file}, or every request of a {@code --replay} recording, in order. The hot path does
 * no JSON work at all.
 */
final class RequestPool implements AutoCloseable {
    /** Distinct generated bodies. */
    static final int DISTINCT_BODIES = 8;

    private final List<PreparedRequest> requests;

    RequestPool(List<PreparedRequest> requests) {
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("no requests");
        }
        this.requests = List.copyOf(requests);
    }

    /**
     * Builds the requests for a run.
     *
     * @throws LoadBenchException when the input file, the recording or the model's metadata cannot be
     *     read, or the protocol cannot carry the model's inputs
     */
    static RequestPool build(HttpTarget target, LoadOptions options) {
        Protocol protocol = options.protocol();
        if (!protocol.sendsInputs()) {
            return new RequestPool(List.of(protocol.request(target, options, null)));
        }
        if (options.imageDir() != null) {
            return new RequestPool(ImageRequests.build(target, options));
        }
        if (options.replayFile() != null) {
            ReplayFile recording = ReplayFile.read(options.replayFile());
            List<PreparedRequest> requests = new ArrayList<>(recording.size());
            try {
                for (int i = 0; i < recording.size(); i++) {
                    requests.add(protocol.requestFor(target, options, recording.request(i)));
                }
            } catch (RuntimeException e) {
                requests.forEach(PreparedRequest::close);
                throw e;
            }
            return new RequestPool(requests);
        }
        if (options.inputFile() != null) {
            try {
                byte[] body = Files.readAllBytes(options.inputFile());
                return new RequestPool(List.of(protocol.request(target, options, body)));
            } catch (IOException e) {
                throw new LoadBenchException("cannot read --input-file " + options.inputFile() + ": " + e, e);
            }
        }
        ModelMetadata metadata = ModelMetadata.fetch(
                target, options.model(), options.modelVersion(), options.requestTimeout());
        InputGenerator generator = new InputGenerator(options.seed());
        List<PreparedRequest> requests = new ArrayList<>(DISTINCT_BODIES);
        try {
            for (int i = 0; i < DISTINCT_BODIES; i++) {
                requests.add(protocol.requestFor(target, options, generator.next(metadata.inputs(), options.batch())));
            }
        } catch (IllegalArgumentException e) {
            requests.forEach(PreparedRequest::close);
            throw new LoadBenchException("cannot make input data for model " + options.model() + ": "
                    + e.getMessage(), e);
        } catch (RuntimeException e) {
            requests.forEach(PreparedRequest::close);
            throw e;
        }
        return new RequestPool(requests);
    }

    /** The request for send number {@code i}; any non-negative counter will do. */
    PreparedRequest get(long i) {
        return requests.get((int) (i % requests.size()));
    }

    int size() {
        return requests.size();
    }

    @Override
    public void close() {
        requests.forEach(PreparedRequest::close);
    }
}
