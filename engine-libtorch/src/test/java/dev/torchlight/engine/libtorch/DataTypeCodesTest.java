package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DataTypeCodesTest {

    @Test
    void theCodesAreTheHeadersElementTypes() throws IOException {
        String header = Files.readString(TestData.root().resolve("engine-libtorch/src/main/native/torchlight_engine.h"));
        Map<String, Integer> defined = new LinkedHashMap<>();
        Matcher m = Pattern.compile("#define TL_(BOOL|UINT8|INT8|INT16|INT32|INT64|FP16|BF16|FP32|FP64) (\\d+)")
                .matcher(header);
        while (m.find()) {
            defined.put(m.group(1), Integer.parseInt(m.group(2)));
        }

        assertThat(defined).hasSize(DataType.values().length);
        for (DataType type : DataType.values()) {
            assertThat(DataTypeCodes.code(type)).as(type.name()).isEqualTo(defined.get(type.name()));
            assertThat(DataTypeCodes.type(defined.get(type.name()))).isEqualTo(type);
        }
        assertThat(DataTypeCodes.type(-1)).isNull();
        assertThat(DataTypeCodes.type(DataType.values().length)).isNull();
        assertThat(EngineLibrary.PRECISION_AS_SAVED).isEqualTo(defined.get("FP32"));
    }
}
