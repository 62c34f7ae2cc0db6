package dev.torchlight.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code torchlight} command. */
@Command(
        name = "torchlight",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A model server for TorchScript models.",
        subcommands = {ServeCommand.class, BenchCommand.class, ArchiveCommand.class, ImportMarCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured picocli command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand; try 'torchlight serve'");
    }
}
