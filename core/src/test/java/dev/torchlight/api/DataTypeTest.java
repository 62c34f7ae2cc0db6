package dev.torchlight.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataTypeTest {

    @ParameterizedTest
    @CsvSource({
        "BOOL, 1", "UINT8, 1", "INT8, 1", "INT16, 2", "INT32, 4", "INT64, 8",
        "FP16, 2", "BF16, 2", "FP32, 4", "FP64, 8",
    })
    void byteSizes(DataType type, int bytes) {
        assertThat(type.byteSize()).isEqualTo(bytes);
    }

    @Test
    void everyTypeHasItsSizeListed() {
        assertThat(DataType.values()).hasSize(10);
    }

    @Test
    void floatingPointTypes() {
        assertThat(DataType.values()).filteredOn(DataType::isFloatingPoint)
                .containsExactlyInAnyOrder(DataType.FP16, DataType.BF16, DataType.FP32, DataType.FP64);
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void parsesItsOwnNameInAnyCase(DataType type) {
        assertThat(DataType.parse(type.name())).isSameAs(type);
        assertThat(DataType.parse(type.name().toLowerCase(java.util.Locale.ROOT))).isSameAs(type);
    }

    @Test
    void parseIsCaseInsensitiveAndTrims() {
        assertThat(DataType.parse("Fp32")).isEqualTo(DataType.FP32);
        assertThat(DataType.parse(" int64 ")).isEqualTo(DataType.INT64);
        assertThat(DataType.parse("bf16")).isEqualTo(DataType.BF16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"FLOAT", "float32", "FP8", "", "BYTES"})
    void parseRejectsUnknownNamesListingAcceptedOnes(String name) {
        assertThatThrownBy(() -> DataType.parse(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + name + "'")
                .hasMessageContaining("BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64");
    }

    @Test
    void parseRejectsNull() {
        assertThatThrownBy(() -> DataType.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected one of");
    }

    @Test
    void namesListsEveryType() {
        assertThat(DataType.names()).isEqualTo("BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64");
    }

    @ParameterizedTest
    @CsvSource({
        "UINT8, 0, 255", "INT8, -128, 127", "INT16, -32768, 32767", "INT32, -2147483648, 2147483647",
        "INT64, -9223372036854775808, 9223372036854775807",
    })
    void integerRanges(DataType type, long min, long max) {
        assertThat(type.minInteger()).isEqualTo(min);
        assertThat(type.maxInteger()).isEqualTo(max);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"BOOL", "FP16", "BF16", "FP32", "FP64"})
    void onlyIntegerTypesHaveARange(DataType type) {
        assertThatThrownBy(type::minInteger).isInstanceOf(IllegalStateException.class).hasMessageContaining(type.name());
        assertThatThrownBy(type::maxInteger).isInstanceOf(IllegalStateException.class);
    }
}
