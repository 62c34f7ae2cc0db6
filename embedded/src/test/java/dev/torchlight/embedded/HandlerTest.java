package dev.torchlight.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.handler.HandlerItem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Items through a model's handler: the image classifier fixture (testdata/handlers). */
class HandlerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void imagesGoThroughTheHandlerAndComeBackAsItsAnswers() throws IOException {
        Path testdata = Fixtures.models().getParent();
        byte[] coffee = Files.readAllBytes(testdata.resolve("images/coffee.jpg"));
        byte[] rocket = Files.readAllBytes(testdata.resolve("images/rocket.jpg"));
        try (Torchlight torchlight = Torchlight.open(testdata.resolve("handlers/models"))) {
            Model classifier = torchlight.model("classifier");

            HandlerAnswer answer = classifier.handle(List.of(new HandlerItem("body", "image/jpeg", coffee),
                    new HandlerItem("body", "image/jpeg", rocket))).join();

            assertThat(answer.model()).isEqualTo("classifier");
            assertThat(answer.items()).hasSize(2);
            assertThat(classifier.stats().inferenceCount()).as("rows the model ran").isGreaterThanOrEqualTo(2);
            assertThat(classifier.handle(List.of(new HandlerItem("body", "image/jpeg", new byte[] {1, 2, 3}))))
                    .failsWithin(WAIT).withThrowableThat().havingCause().isInstanceOf(ServingException.InvalidInput.class);
        }
    }
}
