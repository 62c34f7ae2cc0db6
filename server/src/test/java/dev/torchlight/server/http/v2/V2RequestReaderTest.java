package dev.torchlight.server.http.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class V2RequestReaderTest {

    private static InferenceRequest read(String json) {
        return V2RequestReader.read(json.getBytes(StandardCharsets.UTF_8), "m", 3L);
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
        assertThat(r.model()).isEqualTo("m");
        assertThat(r.version()).isEqualTo(3L);
        assertThat(r.parameters()).containsEntry("a", 1).containsEntry("b", "x").containsEntry("c", true)
                .containsEntry("d", 2.5).containsEntry("f", new BigInteger("123456789012345678901"))
                .doesNotContainKey("e");
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
        assertThat(r.parameters()).isEmpty();
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
}
