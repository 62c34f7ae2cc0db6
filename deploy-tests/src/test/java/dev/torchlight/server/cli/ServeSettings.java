package dev.torchlight.server.cli;

import dev.torchlight.config.ServerConfig;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * What {@code torchlight serve} makes of a container's arguments and environment: the same flag
 * parsing and the same merge of defaults, environment and flags as at start-up, without starting.
 */
public final class ServeSettings {
    private ServeSettings() {
    }

    /**
     * @throws CommandLine.ParameterException for an unknown flag or a missing value
     * @throws dev.torchlight.config.ConfigException for a value of the wrong type or an unknown
     *     TORCHLIGHT_* variable
     */
    public static ServerConfig resolve(List<String> args, Map<String, String> env) {
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args.toArray(String[]::new));
        return command.resolve(env);
    }
}
