package dev.torchlight.registry;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.config.ModelLifecycle;
import dev.torchlight.config.ModelLifecycleParser;
import dev.torchlight.config.VersionPolicy;
import dev.torchlight.repository.ModelSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One load or reload of a model: from its folder and what serves now, what is to serve next.
 * Versions whose files, config and instance count are unchanged keep serving untouched; new or
 * changed ones are loaded beside them; a version that fails to reload leaves its loaded copy in
 * place. Nothing is published or released here: {@link ModelManager} does that with the result.
 */
final class ModelLoad {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoad.class);

    /**
     * What to serve next.
     *
     * @param served the model to publish
     * @param record what to remember of it
     * @param retired versions nothing will route to once {@code served} is published
     * @param outcome what the load did, for the caller
     */
    record Result(ServedModel served, ModelRecord record, List<ServedVersion> retired, LoadOutcome outcome) {}

    private final VersionLoader loader;

    ModelLoad(VersionLoader loader) {
        this.loader = loader;
    }

    /**
     * @param old what was remembered of the model, or null for a new one
     * @param served what serves now, or null for a new model
     * @param counts the instance counts to run
     */
    Result run(ModelSource source, ModelRecord old, ServedModel served, InstanceCounts counts) {
        String name = source.name();
        String configStamp = FileStamps.of(source.configFile());
        ModelConfig config;
        ModelLifecycle lifecycle;
        NavigableMap<Long, String> names;
        try {
            config = ModelConfigParser.parse(source.configFile(), source.configName());
            if (!config.name().equals(name)) {
                config = config.withName(name); // registered under another name (model_name)
            }
            lifecycle = ModelLifecycleParser.parse(source.configFile(), config);
            names = VersionNames.of(source);
        } catch (ConfigException e) {
            return failed(source, old, served, e.getMessage(), configStamp, counts);
        }
        if (source.versions().isEmpty()) {
            return failed(source, old, served, "no version folders in " + source.directory() + "; expected "
                    + source.configName() + "/<version>/" + ModelSource.MODEL_FILE + " (or " + ModelSource.PACKAGE_FILE
                    + ")", configStamp, counts);
        }
        NavigableSet<Long> wanted = lifecycle.versionPolicy().select(new TreeSet<>(source.versions().keySet()));
        if (wanted.isEmpty()) {
            return failed(source, old, served, "version_policy " + VersionPolicy.describe(lifecycle.versionPolicy())
                    + " selects none of the versions on disk " + source.versions().keySet(), configStamp, counts);
        }
        boolean configChanged = old == null || served == null || served.config() == null
                || !configStamp.equals(old.configStamp());
        NavigableMap<Long, ServedVersion> next = new TreeMap<>();
        Map<Long, String> stamps = new HashMap<>();
        Map<Long, String> rejected = new HashMap<>();
        List<ServedVersion> retired = new ArrayList<>();
        List<Long> loaded = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (long version : wanted) {
            Path file = source.versions().get(version);
            String stamp = FileStamps.of(file);
            ServedVersion current = served == null ? null : served.versions().get(version);
            boolean serving = current instanceof LoadedVersion;
            boolean rescaled = old != null && old.instances().of(version) != counts.of(version);
            if (serving && !configChanged && !rescaled && stamp.equals(old.stamps().get(version))
                    && current.name().equals(names.get(version))) {
                next.put(version, current);
                stamps.put(version, stamp);
                continue;
            }
            ServedVersion fresh = loader.load(config, lifecycle, counts.of(version), version, names.get(version), file);
            if (fresh instanceof LoadedVersion) {
                next.put(version, fresh);
                stamps.put(version, stamp);
                loaded.add(version);
                if (current != null) {
                    retired.add(current);
                }
            } else if (serving) {
                LOG.error("model {} version {}: the new files failed to load; the loaded copy keeps serving", name,
                        version);
                next.put(version, current);
                stamps.put(version, old.stamps().get(version));
                rejected.put(version, stamp);
                failures.add("version " + fresh.name() + ": " + fresh.error()
                        + " (the previously loaded copy keeps serving)");
            } else {
                next.put(version, fresh);
                stamps.put(version, stamp);
                rejected.put(version, stamp);
                failures.add("version " + fresh.name() + ": " + fresh.error());
            }
        }
        if (served != null) {
            served.versions().forEach((v, version) -> {
                if (!next.containsKey(v)) {
                    retired.add(version);
                }
            });
        }
        // The default version and the traffic split survive reloads of the versions they name.
        ServedModel model = new ServedModel(name, config, next, served == null ? null : served.defaultVersion(),
                failures.isEmpty() ? null : String.join("; ", failures), served == null ? null : served.traffic());
        return new Result(model, new ModelRecord(source, configStamp, stamps, rejected, counts), retired,
                new LoadOutcome(name, servingVersions(next), loaded, failures));
    }

    /**
     * A model whose config or folder is unusable: recorded as failed, unless versions of it serve,
     * which then keep serving with the failure reported.
     */
    private static Result failed(ModelSource source, ModelRecord old, ServedModel served, String error,
            String configStamp, InstanceCounts counts) {
        String name = source.name();
        LOG.error("model {} failed to load: {}", name, error);
        if (served != null && !servingVersions(served.versions()).isEmpty()) {
            LOG.error("model {}: the loaded versions keep serving", name);
            ServedModel same = new ServedModel(name, served.config(), served.versions(), served.defaultVersion(),
                    error, served.traffic());
            // The broken config is remembered, so that a scan does not retry it until it changes again.
            ModelRecord record = old == null ? null : old.withConfigStamp(configStamp);
            return new Result(same, record, List.of(), new LoadOutcome(name, servingVersions(served.versions()),
                    List.of(), List.of(error + " (the loaded versions keep serving)")));
        }
        NavigableMap<Long, ServedVersion> versions = new TreeMap<>();
        Map<Long, String> stamps = new HashMap<>();
        source.versions().forEach((v, file) -> {
            versions.put(v, new FailedVersion(name, v, Long.toString(v), null, error));
            stamps.put(v, FileStamps.of(file));
        });
        List<ServedVersion> retired = served == null ? List.of() : List.copyOf(served.versions().values());
        return new Result(new ServedModel(name, null, versions, null, error),
                new ModelRecord(source, configStamp, stamps, stamps, counts), retired,
                new LoadOutcome(name, List.of(), List.of(), List.of(error)));
    }

    /** The versions that loaded. */
    static List<Long> servingVersions(NavigableMap<Long, ServedVersion> versions) {
        return versions.values().stream().filter(v -> v instanceof LoadedVersion).map(ServedVersion::version).toList();
    }
}
