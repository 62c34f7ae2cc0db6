package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReplayFileTest {
    @TempDir
    Path dir;

    /** A transaction as the risk example records it: ids and features, one row. */
    static String request(long id, float feature) {
        return "{\"id\":\"txn-" + id + "\",\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,2],"
                + "\"data\":[" + id + "," + (id + 100) + "]},{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],"
                + "\"data\":[" + feature + ",0.5,-2]}]}";
    }

    private Path file(String... lines) throws IOException {
        return Files.write(dir.resolve("stream.jsonl"), List.of(lines));
    }

    @Test
    void readsEveryRequestInOrderSkippingBlankLines() throws IOException {
        ReplayFile recording = ReplayFile.read(file(request(1, 0.25f), "", request(2, 1.5f), request(3, 3f)));

        assertThat(recording.size()).isEqualTo(3);
        List<InputTensor> second = recording.request(1);
        assertThat(second).extracting(InputTensor::name).containsExactly("ids", "x");
        assertThat(second.get(0).datatype()).isEqualTo(Datatype.INT64);
        assertThat(second.get(0).shape()).containsExactly(1, 2);
        assertThat(longs(second.get(0).data())).containsExactly(2, 102);
        assertThat(second.get(1).shape()).containsExactly(1, 3);
        assertThat(floats(second.get(1).data())).containsExactly(1.5f, 0.5f, -2f);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not JSON | {\"inputs\": [ | not JSON",
        "no inputs | {\"id\": \"a\"} | non-empty \"inputs\" array",
        "data not flat | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[[1,2]]}]} | holds 2 elements, data has 1",
        "too few elements | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2]}]} | holds 3 elements, data has 2",
        "integer out of range | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"INT8\",\"shape\":[1],\"data\":[300]}]} | element 0 is 300, expected an integer in [-128, 127]",
        "float for an integer | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"INT64\",\"shape\":[1],\"data\":[1.5]}]} | element 0 is 1.5",
        "text for a float | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[\"x\"]}]} | expected a number",
        "BYTES | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"x\"]}]} | datatype BYTES cannot be replayed",
        "no shape | {\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"data\":[1]}]} | needs \"name\", \"datatype\", \"shape\""
    })
    void aBadLineIsReportedByItsNumber(String what, String line, String expected) throws IOException {
        Path file = file(request(1, 1f), line);

        assertThatThrownBy(() -> ReplayFile.read(file)).as(what).isInstanceOf(LoadBenchException.class)
                .hasMessageStartingWith("--replay " + file + " line 2: ")
                .hasMessageContaining(expected);
    }

    @Test
    void aMissingOrEmptyFileIsRefused() throws IOException {
        assertThatThrownBy(() -> ReplayFile.read(dir.resolve("absent.jsonl"))).isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("cannot read --replay");
        Path empty = file("", " ");
        assertThatThrownBy(() -> ReplayFile.read(empty)).isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("holds no request");
    }

    @Test
    void stackingTakesTheFirstRowsInOrderAndCyclesAShortRecording() throws IOException {
        ReplayFile recording = ReplayFile.read(file(request(1, 1f), request(2, 2f), request(3, 3f)));

        List<ReplayFile.Stacked> batch = recording.stack(5);

        assertThat(batch).extracting(ReplayFile.Stacked::name).containsExactly("ids", "x");
        assertThat(batch.get(0).datatype()).isEqualTo("INT64");
        assertThat(batch.get(0).shape()).containsExactly(5, 2);
        assertThat(longs(batch.get(0).data())).containsExactly(1, 101, 2, 102, 3, 103, 1, 101, 2, 102);
        assertThat(batch.get(1).shape()).containsExactly(5, 3);
        assertThat(floats(batch.get(1).data())).startsWith(1f, 0.5f, -2f, 2f, 0.5f, -2f);
    }

    @Test
    void aRecordingIsCheckedAgainstTheModelsDeclaredInputs() throws IOException {
        ReplayFile recording = ReplayFile.read(file(request(1, 1f)));
        InputSpec ids = new InputSpec("ids", Datatype.INT64, new long[] {-1, 2});

        recording.check(List.of(ids, new InputSpec("x", Datatype.FP32, new long[] {-1, 3})), "m");
        assertThatThrownBy(() -> recording.check(List.of(ids), "m")).isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("input 'x' is not an input of model m, which declares [ids INT64[-1, 2]]");
        assertThatThrownBy(() -> recording.check(List.of(ids, new InputSpec("x", Datatype.FP64, new long[] {-1, 3})),
                "m")).isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("input 'x' is FP32, model m declares x FP64[-1, 3]");
    }

    @Test
    void requestsOfDifferentShapesCannotBeStacked() throws IOException {
        String wider = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,3],\"data\":[1,2,3]},"
                + "{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";
        ReplayFile recording = ReplayFile.read(file(request(1, 1f), wider));

        assertThat(recording.stack(1).get(0).shape()).containsExactly(1, 2);
        assertThatIllegalArgumentException().isThrownBy(() -> recording.stack(2))
                .withMessageContaining("request 2 input ids INT64[1, 3] cannot be stacked");
    }

    private static long[] longs(ByteBuffer data) {
        long[] values = new long[data.remaining() / 8];
        data.order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
        return values;
    }

    private static float[] floats(ByteBuffer data) {
        float[] values = new float[data.remaining() / 4];
        data.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }
}
