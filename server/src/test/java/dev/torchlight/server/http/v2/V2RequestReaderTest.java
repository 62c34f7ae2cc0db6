package dev.torchlight.server.http.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.inference.RequestControls;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class V2RequestReaderTest {

    private static InferenceRequest read(String json) {
        return read(json, RequestControls.NONE);
    }

    private static V2Request parse(String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return V2RequestReader.read(body, body.length, RequestControls.NONE);
    }

    private static void assertInvalid(String json, String message) {
        assertThatThrownBy(() -> read(json))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining(message);
    }

    @Test
    void fullRequest() {
        InferenceRequest r = read("""
                {"id": "42", "parameters": {"a": 1, "b": "x", "c": true, "d": 2.5, "e": null, "f": 123456789012345678901},
                 "inputs": [
                   {"name": "x", "shape": [2, 2], "datatype": "FP32", "parameters": {"p": 1}, "data": [[1, 2], [3, 4]]},
                   {"name": "mask", "shape": [3], "datatype": "BOOL", "data": [true, false, true]}
                 ],
                 "outputs": [{"name": "y", "parameters": {"binary_data": false}}],
                 "extra": {"ignored": [1, 2, {"deep": true}]}}
                """);
        assertThat(r.id()).isEqualTo("42");
        assertThat(r.outputs()).containsExactly("y");
        assertThat(r.inputs()).hasSize(2);
        Tensor x = r.inputs().get(0);
        assertThat(x.name()).isEqualTo("x");
        assertThat(x.dataType()).isEqualTo(DataType.FP32);
        assertThat(x.shape()).containsExactly(2, 2);
        assertThat(x.data().getFloat(12)).isEqualTo(4f);
        assertThat(r.inputs().get(1).data().get(1)).isZero();
    }

    @Test
    void shapesOfHighRankAndTheirLimit() {
        Tensor x = read("""
                {"inputs": [{"name": "x", "shape": [1, 1, 1, 1, 1, 1, 2], "datatype": "INT8", "data": [1, 2]}]}""")
                .inputs().get(0);
        assertThat(x.shape()).containsExactly(1, 1, 1, 1, 1, 1, 2);
        String rank33 = "1, ".repeat(32) + "1";
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"shape\": [" + rank33 + "], \"datatype\": \"INT8\","
                + " \"data\": [1]}]}", "input 'x': 'shape' has more than 32 dimensions");
    }

    @Test
    void dataBeforeDatatypeAndShapeIsDecodedOnceTheyAreKnown() {
        InferenceRequest r = read("""
                {"inputs": [{"data": [[1, 2, 3]], "name": "ids", "shape": [1, 3], "datatype": "INT64"},
                            {"datatype": "UINT8", "data": [7], "shape": [1], "name": "b"}]}""");
        Tensor ids = r.inputs().get(0);
        assertThat(ids.shape()).containsExactly(1, 3);
        assertThat(ids.data().getLong(16)).isEqualTo(3);
        assertThat(r.inputs().get(1).data().get(0)).isEqualTo((byte) 7);
        assertThat(r.id()).isNull();
        assertThat(r.outputs()).isEmpty();
    }

    @Test
    void deferredDataErrorsStillNameTheInput() {
        assertInvalid("{\"inputs\": [{\"data\": [300], \"name\": \"b\", \"shape\": [1], \"datatype\": \"UINT8\"}]}",
                "input 'b': element 0 is 300, out of range for UINT8 [0, 255]");
    }

    @Test
    void malformedJsonNamesLineAndColumn() {
        assertThatThrownBy(() -> read("{\"inputs\": [\n  {\"name\": \"x\",, }]}"))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageStartingWith("malformed JSON at line 2, column 16: ")
                .hasMessageNotContaining("\tat ");
        assertInvalid("{\"inputs\": [", "malformed JSON at line 1");
        assertInvalid("{\"id\": \"a\", \"id\": \"b\", \"inputs\": []}", "Duplicate field 'id'");
    }

    @Test
    void schemaErrors() {
        assertInvalid("", "the request body is empty");
        assertInvalid("[1]", "must be a JSON object");
        assertInvalid("{}", "the request has no 'inputs'");
        assertInvalid("{\"inputs\": {}}", "'inputs' must be an array");
        assertInvalid("{\"inputs\": [1]}", "inputs[0] must be an object");
        assertInvalid("{\"inputs\": [{\"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", "inputs[0] has no 'name'");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"data\": [1]}]}", "input 'x' has no 'datatype'");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"data\": [1]}]}", "input 'x' has no 'shape'");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1]}]}", "input 'x' has no 'data'");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"UINT32\", \"shape\": [1], \"data\": [1]}]}",
                "input 'x': unsupported datatype 'UINT32', expected one of BOOL, UINT8");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1], \"data\": [1]}]}",
                "input 'x': 'shape' must be an array of non-negative integers, found -1");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": 1, \"data\": [1]}]}",
                "input 'x': 'shape' must be an array");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": 1}]}",
                "input 'x': 'data' must be an array");
        assertInvalid("{\"inputs\": [{\"name\": 5}]}", "inputs[0].name must be a string");
        assertInvalid("{\"id\": 5, \"inputs\": []}", "'id' must be a string");
        assertInvalid("{\"parameters\": [], \"inputs\": []}", "'parameters' must be an object");
        assertInvalid("{\"parameters\": {\"k\": [1]}, \"inputs\": []}", "'parameters'.k must be a string, number or boolean");
        assertInvalid("{\"outputs\": [{}], \"inputs\": []}", "outputs[0] has no 'name'");
        assertInvalid("{\"outputs\": [{\"name\": \"y\"}, {\"name\": \"y\"}], \"inputs\": []}", "output 'y' is requested more than once");
        assertInvalid("{\"inputs\": []} []", "unexpected content after the request object");
    }

    @Test
    void duplicateInputNames() {
        assertInvalid("""
                {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]},
                            {"name": "x", "datatype": "FP32", "shape": [1], "data": [2]}]}""",
                "input 'x' appears more than once");
    }

    @Test
    void elementCountAndNestingAreCheckedAgainstTheShape() {
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2, 2], \"data\": [1, 2, 3]}]}",
                "input 'x': shape [2, 2] needs 4 elements, data has 3");
        assertInvalid("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2, 2], \"data\": [[1, 2, 3, 4]]}]}",
                "input 'x': nested data has shape [1, 4] but the declared shape is [2, 2]");
    }

    private static final String INPUTS = "\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]";

    private static InferenceRequest read(String json, RequestControls headers) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return V2RequestReader.read(body, body.length, headers).inference();
    }

    @Test
    void withoutTimeoutOrPriorityBothAreTheModelsDefault() {
        InferenceRequest r = read("{" + INPUTS + "}");

        assertThat(r.timeoutMicros()).isZero();
        assertThat(r.priority()).isZero();
    }

    @Test
    void timeoutAndPriorityParametersAreReadAndKept() {
        InferenceRequest r = read("{\"parameters\": {\"timeout\": 2500, \"priority\": 2}, " + INPUTS + "}");

        assertThat(r.timeoutMicros()).isEqualTo(2500);
        assertThat(r.priority()).isEqualTo(2);
    }

    @Test
    void largeTimeoutsAreLongs() {
        assertThat(read("{\"parameters\": {\"timeout\": 9000000000000}, " + INPUTS + "}").timeoutMicros())
                .isEqualTo(9_000_000_000_000L);
    }

    @Test
    void headersFillInWhatTheBodyDoesNotSet() {
        RequestControls headers = new RequestControls(4, 7000);

        InferenceRequest none = read("{" + INPUTS + "}", headers);
        assertThat(none.priority()).isEqualTo(4);
        assertThat(none.timeoutMicros()).isEqualTo(7000);

        InferenceRequest timeoutOnly = read("{\"parameters\": {\"timeout\": 10}, " + INPUTS + "}", headers);
        assertThat(timeoutOnly.timeoutMicros()).as("the body wins").isEqualTo(10);
        assertThat(timeoutOnly.priority()).isEqualTo(4);

        InferenceRequest zero = read("{\"parameters\": {\"priority\": 0, \"timeout\": 0}, " + INPUTS + "}", headers);
        assertThat(zero.priority()).as("an explicit 0 in the body still wins").isZero();
        assertThat(zero.timeoutMicros()).isZero();

        InferenceRequest nulls = read("{\"parameters\": {\"priority\": null}, " + INPUTS + "}", headers);
        assertThat(nulls.priority()).as("null is not set").isEqualTo(4);
    }

    @Test
    void badTimeoutAndPriorityParametersAre400sNamingThem() {
        assertInvalid("{\"parameters\": {\"timeout\": -1}, " + INPUTS + "}",
                "'parameters.timeout' must be a non-negative integer number of microseconds, got -1");
        assertInvalid("{\"parameters\": {\"timeout\": 1.5}, " + INPUTS + "}",
                "'parameters.timeout' must be a non-negative integer number of microseconds, got 1.5");
        assertInvalid("{\"parameters\": {\"timeout\": \"100\"}, " + INPUTS + "}",
                "'parameters.timeout' must be a non-negative integer number of microseconds, got the string \"100\"");
        assertInvalid("{\"parameters\": {\"timeout\": true}, " + INPUTS + "}",
                "'parameters.timeout' must be a non-negative integer number of microseconds, got true");
        assertInvalid("{\"parameters\": {\"timeout\": 9223372036854776}, " + INPUTS + "}",
                "'parameters.timeout' is too large: 9223372036854776");
        assertInvalid("{\"parameters\": {\"timeout\": 99999999999999999999}, " + INPUTS + "}",
                "'parameters.timeout' is too large: 99999999999999999999");
        assertInvalid("{\"parameters\": {\"priority\": -2}, " + INPUTS + "}",
                "'parameters.priority' must be a priority level (a non-negative integer, 1 = highest), got -2");
        assertInvalid("{\"parameters\": {\"priority\": \"high\"}, " + INPUTS + "}",
                "'parameters.priority' must be a priority level");
        assertInvalid("{\"parameters\": {\"priority\": 1.0}, " + INPUTS + "}",
                "'parameters.priority' must be a priority level (a non-negative integer, 1 = highest), got 1.0");
        assertInvalid("{\"parameters\": {\"priority\": 3000000000}, " + INPUTS + "}",
                "'parameters.priority' is too large: 3000000000");
    }

    // --- BYTES items for a model's handler

    @Test
    void bytesInputsAreItemsInOrderWhereverTheirDataComes() {
        String a = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});
        String b = Base64.getEncoder().encodeToString(new byte[] {4});
        V2Request r = parse("{\"id\": \"q\", \"parameters\": {\"priority\": 2}, \"inputs\": ["
                + "{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"" + a + "\", [\"" + b + "\"]]},"
                + "{\"data\": [\"" + b + "\"], \"name\": \"late\", \"shape\": [1], \"datatype\": \"bytes\"}]}");

        assertThat(r.sendsItems()).isTrue();
        assertThat(r.tensors()).isEmpty();
        assertThat(r.id()).isEqualTo("q");
        assertThat(r.controls().priority()).isEqualTo(2);
        assertThat(r.items()).extracting(HandlerItem::name).containsExactly("img", "img", "late");
        assertThat(r.items().get(0).data()).containsExactly(1, 2, 3);
        assertThat(r.items().get(2).data()).containsExactly(4);
    }

    @Test
    void aTensorRequestSendsNoItems() {
        assertThat(parse("{" + INPUTS + "}").sendsItems()).isFalse();
    }

    @Test
    void badBytesInputsAre400sNamingThem() {
        assertInvalid("{\"inputs\": [{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [1]}]}",
                "input 'img' is BYTES: expected its data to be base64 strings (one per image), got 1");
        assertInvalid("{\"inputs\": [{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"%%\"]}]}",
                "input 'img' element 0: not valid base64");
        assertInvalid("{\"inputs\": [{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"AQ==\"]},"
                + "{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]}",
                "input 'img' is BYTES and input 'x' is FP32: a request sends tensors for the model, or BYTES");
        assertInvalid("{\"inputs\": [{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [1],"
                + " \"parameters\": {\"binary_data_size\": 4}}]}", "binary BYTES data after the JSON header is not supported");
        assertInvalid("{\"inputs\": [{\"name\": \"img\", \"datatype\": \"BYTES\", \"shape\": [1]}]}",
                "input 'img' has no 'data'; expected base64 strings");
    }
}
