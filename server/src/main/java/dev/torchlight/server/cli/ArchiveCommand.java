package dev.torchlight.server.cli;

import dev.torchlight.config.ConfigException;
import dev.torchlight.repository.archive.ArchiveException;
import dev.torchlight.repository.archive.ModelArchive;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code torchlight archive}: packs one model version into a single {@code .tlar} file. */
@Command(
        name = "archive",
        description = {
            "Pack one model version into a single-file archive (<export-path>/<model-name>.tlar): a zip with",
            "config.yaml, <version>/model.pt and a manifest holding the SHA-256 of each file.",
            "Put it in the model repository, or register it with POST /models?url=<name>.tlar."
        })
public final class ArchiveCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--model-name", required = true, description = "The model's name; config.yaml must say the same.")
    String modelName;

    @Option(names = "--version", required = true, description = "The version number (a positive integer).")
    long version;

    @Option(names = "--serialized-file", required = true, paramLabel = "FILE", description = "The TorchScript model.")
    Path serializedFile;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The model's config.yaml.")
    Path config;

    @Option(names = "--export-path", required = true, paramLabel = "DIR", description = "Where the archive is written.")
    Path exportPath;

    @Override
    public Integer call() {
        try {
            Path archive = ModelArchive.write(modelName, version, serializedFile, config, exportPath);
            spec.commandLine().getOut().println(archive);
            return 0;
        } catch (ConfigException | ArchiveException e) {
            spec.commandLine().getErr().println("torchlight archive: " + e.getMessage());
            return 2;
        }
    }
}
