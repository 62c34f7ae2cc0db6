package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Java side's constants and struct layouts against {@code torchlight_engine.h}. */
class AbiLayoutTest {
    private static String header() throws IOException {
        return Files.readString(TestData.root().resolve("engine-libtorch/src/main/native/torchlight_engine.h"));
    }

    private static Map<String, Integer> defines(String header) {
        Map<String, Integer> defined = new LinkedHashMap<>();
        Matcher m = Pattern.compile("#define (TL_[A-Z0-9_]+) (\\d+)").matcher(header);
        while (m.find()) {
            defined.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return defined;
    }

    @Test
    void theStatusDeviceAndFormatCodesAreTheHeaders() throws IOException {
        Map<String, Integer> defined = defines(header());

        assertThat(EngineLibrary.OK).isEqualTo(defined.get("TL_OK"));
        assertThat(EngineLibrary.OUT_OF_MEMORY).isEqualTo(defined.get("TL_OUT_OF_MEMORY"));
        assertThat(EngineLibrary.DEVICE_FAULT).isEqualTo(defined.get("TL_DEVICE_FAULT"));
        assertThat(EngineLibrary.TORCHSCRIPT).isEqualTo(defined.get("TL_TORCHSCRIPT"));
        assertThat(EngineLibrary.AOTI).isEqualTo(defined.get("TL_AOTI"));
        assertThat(EngineLibrary.DEVICE_CPU).isEqualTo(defined.get("TL_CPU"));
        assertThat(EngineLibrary.DEVICE_CUDA).isEqualTo(defined.get("TL_CUDA"));
        assertThat(EngineLibrary.DEVICE_AS_SAVED).isEqualTo(defined.get("TL_AS_SAVED"));
        assertThat(EngineLibrary.FEATURE_AOTI).isEqualTo(defined.get("TL_FEATURE_AOTI"));
        assertThat(EngineLibrary.FEATURE_CUDA).isEqualTo(defined.get("TL_FEATURE_CUDA"));
    }

    @Test
    void theLoadOptionsLayoutHasTheHeadersFieldsInOrder() throws IOException {
        Matcher struct = Pattern.compile("typedef struct tl_load_options \\{(.*?)\\} tl_load_options;", Pattern.DOTALL)
                .matcher(header());
        assertThat(struct.find()).isTrue();
        List<String> fields = new ArrayList<>();
        Matcher field = Pattern.compile("int32_t (\\w+);").matcher(struct.group(1));
        while (field.find()) {
            fields.add(field.group(1));
        }

        assertThat(EngineLibrary.LOAD_OPTIONS.memberLayouts()).extracting(l -> l.name().orElseThrow())
                .containsExactlyElementsOf(fields);
        assertThat(EngineLibrary.LOAD_OPTIONS.byteSize()).isEqualTo(4L * fields.size());
        for (int i = 0; i < fields.size(); i++) {
            assertThat(EngineLibrary.LOAD_OPTIONS.byteOffset(MemoryLayout.PathElement.groupElement(fields.get(i))))
                    .as(fields.get(i)).isEqualTo(4L * i);
        }
    }
}
