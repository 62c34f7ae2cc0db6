package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelLifecycle;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstanceLoader;
import dev.torchlight.scheduler.InstancePlacement;
import dev.torchlight.scheduler.ModelScheduler;
import dev.torchlight.scheduler.NanoClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads one version of a model: places its instances, loads and warms each up on the thread that
 * will serve it, and starts its scheduler. A version that fails to load becomes a
 * {@link FailedVersion} naming why; nothing is left running.
 */
final class VersionLoader {
    private static final Logger LOG = LoggerFactory.getLogger(VersionLoader.class);

    private final Engine engine;
    private final NanoClock clock;
    private final LoadOptions options;
    private final GpuLoadGate gpuGate;

    VersionLoader(Engine engine, NanoClock clock, LoadOptions options) {
        this.engine = engine;
        this.clock = clock;
        this.options = options;
        this.gpuGate = new GpuLoadGate(engine);
    }

    /**
     * @param name the version's public name
     * @param instances instance count set by scaling, or 0 for the config's {@code instance_group}
     * @return a {@link LoadedVersion}, or a {@link FailedVersion} saying why not
     */
    ServedVersion load(ModelConfig config, ModelLifecycle lifecycle, int instances, long version, String name,
            Path file) {
        String label = config.name() + "/" + version;
        if (!Files.isRegularFile(file)) {
            String wanted = config.aoti() ? ModelSource.PACKAGE_FILE + " (platform 'aoti')"
                    : ModelSource.MODEL_FILE + " (TorchScript) or " + ModelSource.PACKAGE_FILE + " (AOTInductor)";
            return failed(label, config, version, name, "model file not found: " + file.getParent() + " holds no "
                    + wanted);
        }
        long start = System.nanoTime();
        try {
            // Scaling changes how many instances run, never the config: handler and groups stay as written.
            List<Placement> placements = InstancePlacement.of(config, engine.gpuCount());
            if (instances > 0) {
                placements = InstancePlacement.scaled(placements, instances);
            }
            ModelStats stats = new ModelStats(config.maxBatchSize(), options.histograms());
            ModelScheduler scheduler = ModelScheduler.start(config, version, placements,
                    new VersionInstances(config, lifecycle, file), stats, clock);
            LOG.info("loaded model {} version {} ({}, {} instance(s) on {}{}, {} ms)", config.name(), version,
                    engine.name(), placements.size(), placements, options.warmUp() ? ", warmed up" : "",
                    (System.nanoTime() - start) / 1_000_000);
            return new LoadedVersion(config, version, name, scheduler, stats, clock);
        } catch (RuntimeException e) {
            return failed(label, config, version, name, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Loads the instances of one version: each warmed up when asked, and probed with that warm-up. */
    private final class VersionInstances implements InstanceLoader {
        private final ModelConfig config;
        private final ModelLifecycle lifecycle;
        private final Path file;

        VersionInstances(ModelConfig config, ModelLifecycle lifecycle, Path file) {
            this.config = config;
            this.lifecycle = lifecycle;
            this.file = file;
        }

        /** Loads one instance and, when asked, warms it up; a failed warm-up releases it and fails the load. */
        @Override
        public LoadedModel load(Placement placement) {
            LoadedModel model = gpuGate.load(config, file, placement, () -> engine.load(config, file, placement));
            if (!options.warmUp()) {
                return model;
            }
            try {
                Warmup.run(model, config, lifecycle.warmup());
                return model;
            } catch (RuntimeException e) {
                model.close();
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new IllegalStateException("warm-up failed: " + why, e);
            }
        }

        /** Without a warm-up at load there is no input known to run, and the instance is reloaded. */
        @Override
        public boolean stillRuns(LoadedModel model) {
            if (!options.warmUp()) {
                return false;
            }
            try {
                Warmup.probe(model, config, lifecycle.warmup());
                return true;
            } catch (RuntimeException e) {
                LOG.warn("model {}: its warm-up input fails too: {}", config.name(), e.getMessage());
                return false;
            }
        }
    }

    private static FailedVersion failed(String label, ModelConfig config, long version, String name, String error) {
        LOG.error("model {} failed to load: {}", label, error);
        return new FailedVersion(config.name(), version, name, config, error);
    }
}
