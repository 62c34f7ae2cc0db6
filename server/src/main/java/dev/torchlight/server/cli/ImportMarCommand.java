package dev.torchlight.server.cli;

import dev.torchlight.repository.archive.ArchiveException;
import dev.torchlight.repository.archive.ExtractionLimits;
import dev.torchlight.server.mar.MarException;
import dev.torchlight.server.mar.MarImporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code torchlight import-mar}: a TorchServe .mar archive becomes a model directory. */
@Command(
        name = "import-mar",
        mixinStandardHelpOptions = true,
        description = {
            "Import a TorchServe model archive (.mar) into a model repository.",
            "TorchScript models with TorchServe's image_classifier handler become a ready model directory;",
            "eager-mode models and Python handlers are refused with what to do instead. The archive's version",
            "(such as 1.0) names the version folder; another version of a model already imported is added",
            "beside it."
        })
public final class ImportMarCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MAR", description = "The .mar file.")
    Path mar;

    @Option(names = "--model-repository", paramLabel = "DIR", required = true,
            description = "Repository to create the model directory in (created if missing).")
    Path repository;

    @Option(names = "--classes", paramLabel = "N", defaultValue = "0",
            description = "Number of classes when the archive has no index_to_name.json.")
    int classes;

    @Override
    public Integer call() {
        try {
            MarImporter.Imported imported = new MarImporter(ExtractionLimits.defaults()).importMar(mar, repository, classes);
            spec.commandLine().getOut().println("imported model '" + imported.model() + "' version "
                    + imported.version() + " (" + imported.classes() + " classes) into " + imported.folder());
            return 0;
        } catch (MarException | ArchiveException e) {
            spec.commandLine().getErr().println("torchlight import-mar: " + e.getMessage());
            return 1;
        }
    }
}
