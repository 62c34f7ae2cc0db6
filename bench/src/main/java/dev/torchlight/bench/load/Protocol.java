package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.http.PreparedRequest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A wire protocol the load generator speaks: it knows which request to send and how to judge the
 * answer. A new protocol (v2-binary, later gRPC) is a new constant with its own encoding.
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

    /** The request path below the server's base URL. */
    abstract String path(LoadOptions options);

    /** The request body for one set of inputs. */
    abstract byte[] encode(List<InputTensor> inputs);

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
