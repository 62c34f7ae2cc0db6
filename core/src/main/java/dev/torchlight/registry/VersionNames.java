package dev.torchlight.registry;

import dev.torchlight.config.ConfigException;
import dev.torchlight.repository.ModelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The public names of a model's versions. A version folder is a number ({@code 1/}); it may also
 * carry a name in {@code <N>/version.txt} (TorchServe's version strings, such as {@code 1.0}, which
 * {@code torchlight import-mar} keeps), by which TorchServe-style paths may name it too. Without one
 * its name is its number, so the mapping is reversible either way.
 */
final class VersionNames {
    /** Longest name accepted. */
    static final int MAX_LENGTH = 64;

    private VersionNames() {}

    /**
     * Every version's name, by number.
     *
     * @throws ConfigException naming the file for a name that is blank, too long, contains a slash
     *     or space, is {@code all}, is another version's number, or is given to two versions
     */
    static NavigableMap<Long, String> of(ModelSource source) {
        NavigableMap<Long, String> names = new TreeMap<>();
        Map<String, Long> taken = new HashMap<>();
        for (Map.Entry<Long, Path> v : source.versions().entrySet()) {
            long version = v.getKey();
            Path file = v.getValue().resolveSibling(ModelSource.VERSION_NAME_FILE);
            String name = Files.isRegularFile(file) ? read(file) : Long.toString(version);
            if (!name.equals(Long.toString(version))) {
                check(name, file, source);
            }
            Long other = taken.put(name, version);
            if (other != null) {
                throw new ConfigException(file + ": version " + version + " is named '" + name
                        + "', as is version " + other + "; each version needs a name of its own");
            }
            names.put(version, name);
        }
        return names;
    }

    private static String read(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            int newline = text.indexOf('\n');
            return newline < 0 ? text : text.substring(0, newline).strip();
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the version's name: " + e.getMessage(), e);
        }
    }

    private static void check(String name, Path file, ModelSource source) {
        String problem = null;
        if (name.isEmpty()) {
            problem = "is empty";
        } else if (name.length() > MAX_LENGTH) {
            problem = "is longer than " + MAX_LENGTH + " characters";
        } else if (name.chars().anyMatch(c -> c == '/' || Character.isWhitespace(c) || Character.isISOControl(c))) {
            problem = "contains a slash, a space or a control character";
        } else if (name.equals("all")) {
            problem = "is 'all', which TorchServe's describe path reserves for every version";
        } else if (name.equals("traffic")) {
            problem = "is 'traffic', which the management path /models/{m}/traffic reserves for the traffic split";
        } else if (name.chars().allMatch(c -> c >= '0' && c <= '9')) {
            problem = "is a number other than the folder's; it would name another version";
        }
        if (problem != null) {
            throw new ConfigException(file + ": the version's name '" + name + "' " + problem
                    + " (expected a name such as 1.0 for the folder " + file.getParent().getFileName()
                    + " of model '" + source.name() + "')");
        }
    }
}
