package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadOptionsTest {
    private static final URI URL = URI.create("http://127.0.0.1:8080");

    @Test
    void theBuilderFillsInTheDefaults() {
        LoadOptions o = LoadOptions.builder(URL, "mlp").concurrency(List.of(1, 8)).build();
        assertThat(o.protocol()).isEqualTo(Protocol.V2_JSON);
        assertThat(o.closedLoop()).isTrue();
        assertThat(o.rates()).isEmpty();
        assertThat(o.warmup()).isEqualTo(Duration.ofSeconds(2));
        assertThat(o.duration()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.batch()).isEqualTo(1);
        assertThat(o.seed()).isEqualTo(LoadOptions.DEFAULT_SEED);
        assertThat(o.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.connections()).isEqualTo(64);
        assertThat(o.inputFile()).isNull();
        assertThat(o.modelVersion()).isNull();
        assertThat(o.firstWarmup()).isEqualTo(o.warmup());
        assertThat(LoadOptions.builder(URL, "m").concurrency(List.of(1)).firstWarmup(Duration.ofSeconds(15)).build()
                .firstWarmup()).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void exactlyOneOfConcurrencyAndRatesIsGiven() {
        assertThatIllegalArgumentException().isThrownBy(() -> LoadOptions.builder(URL, "m").build())
                .withMessageContaining("neither");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").concurrency(List.of(1)).rates(List.of(5.0)).build())
                .withMessageContaining("both");
        assertThat(LoadOptions.builder(URL, "m").rates(List.of(500.0)).build().closedLoop()).isFalse();
    }

    @Test
    void nonsenseIsRefusedWithAReason() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").concurrency(List.of(0)).build())
                .withMessageContaining("concurrency");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").rates(List.of(-1.0)).build())
                .withMessageContaining("rates");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").concurrency(List.of(1)).batch(0).build())
                .withMessageContaining("batch");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").concurrency(List.of(1)).duration(Duration.ZERO).build())
                .withMessageContaining("duration");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, null).concurrency(List.of(1)).build())
                .withMessageContaining("model");
    }

    @Test
    void aReplayIsTheOnlySourceOfDataAndCarriesItsOwnRows() {
        Path file = Path.of("stream.jsonl");
        assertThat(LoadOptions.builder(URL, "m").rates(List.of(100.0)).replayFile(file).build().replayFile())
                .isEqualTo(file);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").rates(List.of(1.0)).replayFile(file).inputFile(file).build())
                .withMessageContaining("one of --image-dir, --input-file and --replay");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").rates(List.of(1.0)).replayFile(file).batch(4).build())
                .withMessageContaining("--batch does not apply to --replay");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, null).protocol(Protocol.HEALTH).rates(List.of(1.0))
                        .replayFile(file).build())
                .withMessageContaining("sends no inputs");
    }

    @Test
    void stoppingAboveAP99AppliesToRatesAndTakesAPositiveNumber() {
        assertThat(LoadOptions.builder(URL, "m").rates(List.of(1.0)).stopAboveP99Ms(8.0).build().stopAboveP99Ms())
                .isEqualTo(8.0);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").concurrency(List.of(1)).stopAboveP99Ms(8.0).build())
                .withMessageContaining("with --concurrency");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> LoadOptions.builder(URL, "m").rates(List.of(1.0)).stopAboveP99Ms(0.0).build())
                .withMessageContaining("positive number of milliseconds");
    }

    @Test
    void theHealthProtocolNeedsNoModel() {
        LoadOptions o = LoadOptions.builder(URL, null).protocol(Protocol.HEALTH).concurrency(List.of(1)).build();
        assertThat(o.model()).isNull();
    }
}
