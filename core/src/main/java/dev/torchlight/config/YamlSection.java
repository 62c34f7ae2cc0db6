package dev.torchlight.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * A YAML mapping read with typed accessors whose errors name the file and the key path.
 *
 * <p>SnakeYAML Engine builds only plain maps, lists, strings, numbers and booleans (YAML 1.2 core
 * schema): no tags construct arbitrary Java types, so a hostile config cannot run code.
 */
public final class YamlSection {
    private final String source;
    private final String path;
    private final Map<String, Object> values;

    private YamlSection(String source, String path, Map<String, Object> values) {
        this.source = source;
        this.path = path;
        this.values = values;
    }

    /** Reads a whole YAML file; an empty file is an empty section. */
    public static YamlSection read(Path file) {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(file.toString())
                .setAllowDuplicateKeys(false)
                .setMaxAliasesForCollections(20)
                .setCodePointLimit(1 << 20)
                .build();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Object root = new Load(settings).loadFromReader(reader);
            if (root == null) {
                return new YamlSection(file.toString(), "", Map.of());
            }
            return of(file.toString(), "", root);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": file not found");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        } catch (YamlEngineException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage().strip(), e);
        } catch (IllegalArgumentException | IllegalStateException | ClassCastException e) {
            // The YAML library rejects some malformed input (a tag like "!n%a") with these rather than its
            // own exception; found by fuzzing (fuzz/ModelConfigFuzzTest).
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage(), e);
        }
    }

    private static YamlSection of(String source, String path, Object node) {
        if (!(node instanceof Map<?, ?> map)) {
            throw new ConfigException(where(source, path) + "expected a mapping of keys to values, got "
                    + describe(node));
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new ConfigException(where(source, path) + "keys must be strings, got " + describe(e.getKey()));
            }
            values.put(key, e.getValue());
        }
        return new YamlSection(source, path, values);
    }

    /** The file this section came from. */
    public String source() {
        return source;
    }

    /** Keys present in this section, in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key) && values.get(key) != null;
    }

    /** The raw value (String, Integer/Long/BigInteger, Double, Boolean, List, Map) or null. */
    public Object raw(String key) {
        return values.get(key);
    }

    /** Fails naming the first key not in {@code known}. */
    public void rejectUnknownKeys(Set<String> known) {
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new ConfigException(where(key) + "unknown key; expected one of " + new TreeSet<>(known));
            }
        }
    }

    public String requireString(String key) {
        Object v = require(key);
        if (v instanceof String s && !s.isBlank()) {
            return s;
        }
        throw error(key, "a non-empty string", v);
    }

    public long requireLong(String key) {
        Object v = require(key);
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw error(key, "an integer", v);
    }

    /** An int within [min, max]. */
    public int requireInt(String key, int min, int max) {
        long v = requireLong(key);
        if (v < min || v > max) {
            throw error(key, "an integer from " + min + " to " + max, values.get(key));
        }
        return (int) v;
    }

    public List<Object> requireList(String key) {
        Object v = require(key);
        if (v instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        throw error(key, "a list", v);
    }

    /** A list of mappings, each a section whose errors name {@code key[i]}. */
    public List<YamlSection> requireSections(String key) {
        List<Object> list = requireList(key);
        List<YamlSection> sections = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            sections.add(of(source, qualified(key) + "[" + i + "]", list.get(i)));
        }
        return sections;
    }

    /** A nested mapping, a section whose errors name {@code key.sub}. */
    public YamlSection requireSection(String key) {
        return of(source, qualified(key), require(key));
    }

    /** "file: key 'a.b': " — the prefix for messages about {@code key}. */
    public String where(String key) {
        return where(source, qualified(key));
    }

    /** An error naming the key, what was expected and what was found. */
    public ConfigException error(String key, String expected, Object found) {
        return new ConfigException(where(key) + "expected " + expected + ", got " + describe(found));
    }

    private Object require(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new ConfigException(where(key) + "required key is missing");
        }
        return v;
    }

    private String qualified(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String where(String source, String path) {
        return path.isEmpty() ? source + ": " : source + ": key '" + path + "': ";
    }

    static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        if (v instanceof Map<?, ?>) {
            return "a mapping";
        }
        return v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " " + v;
    }
}
