package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The manifests start the image the way image/pom.xml builds it. */
class ImageContractTest {
    @Test
    void containerArgsReplaceTheImagesServeCommandAndTheUserIsUid1000() {
        ImageContract image = ImageContract.load();
        Assumptions.assumeTrue(image != null, "image/pom.xml is not in this checkout");
        assertThat(image.entrypoint()).as("the entrypoint runs the jar without a subcommand")
                .last().isEqualTo("/opt/torchlight/torchlight.jar");
        assertThat(image.command()).as("the command the manifests' args replace")
                .containsExactly(ServerContainer.SUBCOMMAND);
        assertThat(image.user()).as("runAsUser 1000 in the chart and the runtimes").isIn("1000", "1000:1000");
        assertThat(image.environment()).allSatisfy((name, value) ->
                assertThat(name).as("the image's defaults are torchlight settings").startsWith("TORCHLIGHT_"));
    }
}
