package dev.torchlight.handler.image;

import dev.torchlight.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Class names by index, from the model directory's {@code index_to_name.json} (TorchServe's file:
 * {@code {"0": "tench"}} or {@code {"0": ["n01440764", "tench"]}}, the last element being the
 * name) or else {@code labels.txt} (one name per line). Without either, a class is named by its
 * index.
 */
final class Labels {
    static final String INDEX_TO_NAME = "index_to_name.json";
    static final String LABELS_TXT = "labels.txt";
    private static final long MAX_FILE_BYTES = 16L << 20;

    private final Map<Integer, String> names;

    private Labels(Map<Integer, String> names) {
        this.names = names;
    }

    /** @throws ConfigException naming the file and what is wrong in it */
    static Labels load(Path modelDirectory) {
        Path json = modelDirectory.resolve(INDEX_TO_NAME);
        if (Files.isRegularFile(json)) {
            return new Labels(fromJson(json, read(json)));
        }
        Path txt = modelDirectory.resolve(LABELS_TXT);
        if (Files.isRegularFile(txt)) {
            List<String> lines = read(txt).lines().toList();
            Map<Integer, String> names = new HashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                names.put(i, lines.get(i).strip());
            }
            return new Labels(names);
        }
        return new Labels(Map.of());
    }

    /** The name of class {@code index}, or the index itself. */
    String name(int index) {
        String name = names.get(index);
        return name == null || name.isEmpty() ? Integer.toString(index) : name;
    }

    private static String read(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException(file + ": larger than " + MAX_FILE_BYTES + " bytes; expected a label file");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** JSON is YAML 1.2, so the YAML parser the config already uses reads it; no JSON library in the core. */
    private static Map<Integer, String> fromJson(Path file, String text) {
        Object root;
        try {
            root = new Load(LoadSettings.builder().setLabel(file.toString()).setCodePointLimit((int) MAX_FILE_BYTES)
                    .build()).loadFromString(text);
        } catch (YamlEngineException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage().strip(), e);
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException(file + ": expected an object from class index to name, such as {\"0\": \"tench\"}");
        }
        Map<Integer, String> names = new HashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            int index;
            try {
                index = Integer.parseInt(String.valueOf(e.getKey()).strip());
            } catch (NumberFormatException x) {
                throw new ConfigException(file + ": key '" + e.getKey() + "' is not a class index (0, 1, ...)");
            }
            Object v = e.getValue();
            if (v instanceof List<?> list && !list.isEmpty()) {
                v = list.get(list.size() - 1);
            }
            if (!(v instanceof String name)) {
                throw new ConfigException(file + ": class " + index + " has no name; expected a string or a list"
                        + " whose last element is the name");
            }
            names.put(index, name);
        }
        return names;
    }
}
