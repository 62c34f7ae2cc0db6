package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

class ModelMetadataTest {

    @Test
    void readsTheInputsOfTheProtocolsMetadata() {
        ModelMetadata m = ModelMetadata.parse("""
                {"name": "mlp", "versions": ["1", "2"], "platform": "pytorch_torchscript",
                 "inputs":  [{"name": "x", "datatype": "FP32", "shape": [-1, 64]},
                             {"name": "ids", "datatype": "INT64", "shape": [-1, -1]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}]}""");
        assertThat(m.name()).isEqualTo("mlp");
        assertThat(m.inputs()).containsExactly(new InputSpec("x", Datatype.FP32, new long[] {-1, 64}),
                new InputSpec("ids", Datatype.INT64, new long[] {-1, -1}));
    }

    @Test
    void badMetadataIsRefusedWithTheReason() {
        assertThatIllegalArgumentException().isThrownBy(() -> ModelMetadata.parse("{"))
                .withMessageContaining("not JSON");
        assertThatIllegalArgumentException().isThrownBy(() -> ModelMetadata.parse("{\"name\":\"m\"}"))
                .withMessageContaining("\"inputs\"");
        assertThatIllegalArgumentException().isThrownBy(() -> ModelMetadata.parse("{\"inputs\":[]}"))
                .withMessageContaining("no inputs");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> ModelMetadata.parse("{\"inputs\":[{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[1]}]}"))
                .withMessageContaining("BYTES").withMessageContaining("--input-file");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> ModelMetadata.parse("{\"inputs\":[{\"name\":\"s\",\"datatype\":\"FP32\",\"shape\":[\"a\"]}]}"))
                .withMessageContaining("shape");
    }
}
