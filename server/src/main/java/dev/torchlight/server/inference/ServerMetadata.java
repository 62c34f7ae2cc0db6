package dev.torchlight.server.inference;

import dev.torchlight.config.ModelConfig;
import java.util.List;

/** What every protocol says about the server itself: its name, version and protocol extensions. */
public final class ServerMetadata {
    /** The server's name in v2 server metadata. */
    public static final String NAME = "torchlight";
    /** The v2 protocol extensions torchlight implements. */
    public static final List<String> EXTENSIONS = List.of("binary_tensor_data", "statistics", "model_configuration");
    /** The v2 platform name for TorchScript models, reported for config platform {@code torchscript}. */
    public static final String TORCHSCRIPT_PLATFORM = "pytorch_torchscript";

    private ServerMetadata() {}

    /** The jar's Implementation-Version, when its manifest has one, else "unknown". */
    public static String version() {
        String version = ServerMetadata.class.getPackage().getImplementationVersion();
        return version != null ? version : "unknown";
    }

    /**
     * A model's v2 platform name: config platform {@code torchscript} is
     * {@value #TORCHSCRIPT_PLATFORM}; others as written.
     *
     * @param config the model's config; null when it could not be read
     */
    public static String platform(ModelConfig config) {
        return config == null || "torchscript".equals(config.platform()) ? TORCHSCRIPT_PLATFORM : config.platform();
    }
}
