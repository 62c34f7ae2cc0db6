package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class InputGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(Datatype.class)
    void eachDatatypeGetsItsByteSizeTimesTheElementsOfTheConcreteShape(Datatype type) {
        InputSpec spec = new InputSpec("x", type, new long[] {-1, 3, -1, 5});
        InputTensor t = new InputGenerator(1).next(List.of(spec), 4).get(0);
        assertThat(t.shape()).containsExactly(4, 3, 1, 5);
        assertThat(t.elementCount()).isEqualTo(60);
        assertThat(t.data().remaining()).isEqualTo(60 * type.byteSize());
        assertThat(t.datatype()).isEqualTo(type);
        assertThat(t.name()).isEqualTo("x");
    }

    @Test
    void byteSizesAreTheWireSizes() {
        assertThat(List.of(Datatype.values()).stream().map(Datatype::byteSize))
                .containsExactly(1, 1, 1, 2, 4, 8, 2, 2, 4, 8);
    }

    @Test
    void aFixedLeadingDimensionIsNotABatchDimension() {
        InputSpec unbatched = new InputSpec("x", Datatype.FP32, new long[] {2, -1});
        assertThat(unbatched.concreteShape(8)).containsExactly(2, 1);
        InputSpec scalar = new InputSpec("s", Datatype.INT64, new long[0]);
        InputTensor t = new InputGenerator(1).next(List.of(scalar), 8).get(0);
        assertThat(t.shape()).isEmpty();
        assertThat(t.data().remaining()).isEqualTo(8);
    }

    @Test
    void theSameSeedGivesTheSameDataAndAnotherSeedOther() {
        List<InputSpec> specs = List.of(new InputSpec("a", Datatype.FP32, new long[] {-1, 16}),
                new InputSpec("b", Datatype.INT64, new long[] {-1, 4}));
        InputGenerator one = new InputGenerator(42);
        InputGenerator two = new InputGenerator(42);
        List<InputTensor> first = one.next(specs, 2);
        assertThat(two.next(specs, 2)).isEqualTo(first);
        // Successive sets from one generator differ: the pool holds distinct bodies.
        assertThat(one.next(specs, 2)).isNotEqualTo(first);
        assertThat(new InputGenerator(43).next(specs, 2)).isNotEqualTo(first);
    }

    @Test
    void valuesStayInTheRangesModelsExpect() {
        List<InputSpec> specs = List.of(new InputSpec("f", Datatype.FP32, new long[] {1000}),
                new InputSpec("i", Datatype.INT64, new long[] {1000}),
                new InputSpec("b", Datatype.BOOL, new long[] {1000}));
        List<InputTensor> t = new InputGenerator(3).next(specs, 1);
        ByteBuffer f = t.get(0).data();
        ByteBuffer i = t.get(1).data();
        ByteBuffer b = t.get(2).data();
        for (int k = 0; k < 1000; k++) {
            assertThat(f.getFloat()).isBetween(0f, 1f);
            assertThat(i.getLong()).isBetween(0L, 99L);
            assertThat(b.get()).isIn((byte) 0, (byte) 1);
        }
    }

    @Test
    void v2BodiesCarryNameDatatypeShapeAndFlatDataThatReadBackToTheBytes() throws Exception {
        List<InputSpec> specs = List.of(new InputSpec("x\"y", Datatype.FP16, new long[] {-1, 3}),
                new InputSpec("u", Datatype.UINT8, new long[] {2}),
                new InputSpec("k", Datatype.BOOL, new long[] {2}));
        List<InputTensor> inputs = new InputGenerator(5).next(specs, 2);
        JsonNode body = JSON.readTree(JsonTensors.v2Request(inputs));
        JsonNode x = body.get("inputs").get(0);
        assertThat(x.get("name").asText()).isEqualTo("x\"y");
        assertThat(x.get("datatype").asText()).isEqualTo("FP16");
        assertThat(x.get("shape").toString()).isEqualTo("[2,3]");
        assertThat(x.get("data")).hasSize(6);
        ByteBuffer bytes = inputs.get(0).data();
        for (JsonNode v : x.get("data")) {
            assertThat(v.floatValue()).isEqualTo(Float.float16ToFloat(bytes.getShort()));
        }
        JsonNode u = body.get("inputs").get(1);
        ByteBuffer ub = inputs.get(1).data();
        for (JsonNode v : u.get("data")) {
            assertThat(v.isInt()).isTrue();
            assertThat(v.intValue()).isEqualTo(ub.get() & 0xFF);
        }
        assertThat(body.get("inputs").get(2).get("data").get(0).isBoolean()).isTrue();
    }

    @Test
    void torchServeBodiesAreNestedToTheShape() throws Exception {
        InputTensor t = new InputGenerator(5).next(List.of(new InputSpec("x", Datatype.INT32, new long[] {-1, 2, 3})), 2)
                .get(0);
        JsonNode body = JSON.readTree(JsonTensors.nested(t));
        assertThat(body).hasSize(2);
        assertThat(body.get(0)).hasSize(2);
        assertThat(body.get(0).get(0)).hasSize(3);
        ByteBuffer data = t.data();
        assertThat(body.get(0).get(0).get(0).intValue()).isEqualTo(data.getInt());
        assertThat(body.get(0).get(0).get(1).intValue()).isEqualTo(data.getInt());

        InputTensor scalar = new InputGenerator(5).next(List.of(new InputSpec("s", Datatype.FP64, new long[0])), 1).get(0);
        assertThat(JSON.readTree(JsonTensors.nested(scalar)).isNumber()).isTrue();
    }
}
