package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.http.PreparedRequest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A wire protocol the load generator speaks: it knows which request to send and how to judge the
 * answer. A new protocol is a new constant with its own encoding; the gRPC ones are run by
 * {@link GrpcLoad}.
 */
public enum Protocol {
    /** Open Inference Protocol v2 over HTTP with JSON tensors. */
    V2_JSON("v2-json") {
        @Override
        String path(LoadOptions options) {
            return "/v2/models/" + HttpTarget.segment(options.model())
                    + (options.modelVersion() == null ? "" : "/versions/" + HttpTarget.segment(options.modelVersion()))
                    + "/infer";
        }

        @Override
        byte[] encode(List<InputTensor> inputs) {
            return JsonTensors.v2Request(inputs);
        }
    },

    /**
     * Open Inference Protocol v2 over HTTP with the binary tensor extension: a JSON header, then
     * the raw little-endian elements; outputs come back binary too.
     */
    V2_BINARY("v2-binary") {
        @Override
        String path(LoadOptions options) {
            return V2_JSON.path(options);
        }

        @Override
        byte[] encode(List<InputTensor> inputs) {
            byte[] header = JsonTensors.v2BinaryHeader(inputs);
            int size = header.length;
            for (InputTensor t : inputs) {
                size += t.data().remaining();
            }
            ByteBuffer body = ByteBuffer.allocate(size).put(header);
            inputs.forEach(t -> body.put(t.data()));
            return body.array();
        }

        @Override
        PreparedRequest requestFor(HttpTarget target, LoadOptions options, List<InputTensor> inputs) {
            byte[] body = encode(inputs);
            Map<String, String> headers = Map.of("Content-Type", "application/octet-stream",
                    "Inference-Header-Content-Length", Integer.toString(JsonTensors.v2BinaryHeader(inputs).length));
            return PreparedRequest.of(target, "POST", path(options), headers, body);
        }

        @Override
        PreparedRequest request(HttpTarget target, LoadOptions options, byte[] body) {
            throw new LoadBenchException("--protocol v2-binary makes its own bodies from the model's metadata;"
                    + " leave out --input-file");
        }
    },

    /** KServe v2 gRPC, unary ModelInfer calls with raw_input_contents; --url is the gRPC listener. */
    GRPC("grpc") {
        @Override
        boolean grpc() {
            return true;
        }
    },

    /** KServe v2 gRPC over ModelStreamInfer: one bidirectional stream per concurrency slot. */
    GRPC_STREAM("grpc-stream") {
        @Override
        boolean grpc() {
            return true;
        }
    },

    /** TorchServe's inference API: the single input as a nested JSON array. */
    TORCHSERVE("torchserve") {
        @Override
        String path(LoadOptions options) {
            return "/predictions/" + HttpTarget.segment(options.model())
                    + (options.modelVersion() == null ? "" : "/" + HttpTarget.segment(options.modelVersion()));
        }

        @Override
        byte[] encode(List<InputTensor> inputs) {
            if (inputs.size() != 1) {
                throw new LoadBenchException("--protocol torchserve sends one input, but the model has "
                        + inputs.size() + "; use --protocol v2-json or --input-file");
            }
            // The full shape, batch dimension included: TorchServe's route takes [n] + S as a batch.
            return JsonTensors.nested(inputs.get(0));
        }
    },

    /** {@code GET /v2/health/live}: no model, no body; measures the client and transport alone. */
    HEALTH("health") {
        @Override
        String path(LoadOptions options) {
            return "/v2/health/live";
        }

        @Override
        boolean sendsInputs() {
            return false;
        }

        @Override
        byte[] encode(List<InputTensor> inputs) {
            throw new UnsupportedOperationException("health sends no body");
        }
    };

    private static final Map<String, String> JSON_HEADERS = Map.of("Content-Type", "application/json");
    private static final String[] STATUS_KINDS = new String[600];

    static {
        for (int status = 0; status < STATUS_KINDS.length; status++) {
            STATUS_KINDS[status] = "http_" + status;
        }
    }

    private final String wireName;

    Protocol(String wireName) {
        this.wireName = wireName;
    }

    /** The name used on the command line and in results, e.g. {@code v2-json}. */
    public String wireName() {
        return wireName;
    }

    /**
     * The protocol with this command-line name.
     *
     * @throws IllegalArgumentException naming the known protocols
     */
    public static Protocol fromWireName(String name) {
        for (Protocol p : values()) {
            if (p.wireName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol '" + name + "'; expected one of "
                + Arrays.stream(values()).map(Protocol::wireName).collect(Collectors.joining(", ")));
    }

    /** Whether requests carry the model's inputs (and so need a model and its metadata). */
    boolean sendsInputs() {
        return true;
    }

    /** Whether this is a gRPC protocol, run by {@link GrpcLoad} rather than over HTTP/1.1. */
    boolean grpc() {
        return false;
    }

    /** The request path below the server's base URL. */
    String path(LoadOptions options) {
        throw new UnsupportedOperationException(wireName + " has no HTTP path");
    }

    /** The request body for one set of inputs. */
    byte[] encode(List<InputTensor> inputs) {
        throw new UnsupportedOperationException(wireName + " has no HTTP body");
    }

    /** The request for one set of generated inputs. */
    PreparedRequest requestFor(HttpTarget target, LoadOptions options, List<InputTensor> inputs) {
        return request(target, options, encode(inputs));
    }

    /** A request carrying {@code body} (null for a protocol that sends none). */
    PreparedRequest request(HttpTarget target, LoadOptions options, byte[] body) {
        return body == null
                ? PreparedRequest.of(target, "GET", path(options), Map.of(), null)
                : PreparedRequest.of(target, "POST", path(options), JSON_HEADERS, body);
    }

    /** Judges an answer: null when it is a success, else the error kind it counts under ({@code http_503}). */
    String judge(int status) {
        if (status >= 200 && status < 300) {
            return null;
        }
        return status >= 0 && status < STATUS_KINDS.length ? STATUS_KINDS[status] : "http_" + status;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
