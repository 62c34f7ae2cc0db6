package dev.torchlight.server.mar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.YamlSection;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.repository.archive.ExtractionLimits;
import dev.torchlight.repository.archive.SafeZipExtractor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Turns a TorchServe model archive ({@code .mar}: a zip with {@code MAR-INF/MANIFEST.json}, the
 * serialized model, the handler and extra files) into a torchlight model directory. Only what
 * torchlight can serve without Python is imported: a TorchScript model with TorchServe's built-in
 * {@code image_classifier} handler. Anything else is refused with a message saying what to do.
 * The archive is extracted with {@link SafeZipExtractor}, so a hostile archive cannot write
 * outside a scratch directory nor fill the disk.
 */
public final class MarImporter {
    static final String MANIFEST = "MAR-INF/MANIFEST.json";
    static final String INDEX_TO_NAME = "index_to_name.json";
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Set<String> OTHER_BUILTINS = Set.of("image_segmenter", "object_detector", "text_classifier",
            "text_classification", "image_classification");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What was imported.
     *
     * @param model the model's name
     * @param directory the model directory
     * @param version the archive's version, kept as the version folder's public name
     * @param folder the version folder it went to
     * @param classes the number of classes
     */
    public record Imported(String model, Path directory, String version, Path folder, int classes) {}

    /** TorchServe's version when the manifest names none. */
    static final String DEFAULT_VERSION = "1.0";
    private static final Pattern VERSION = Pattern.compile("[^/\\s]{1,64}");

    private final ExtractionLimits limits;

    public MarImporter(ExtractionLimits limits) {
        this.limits = limits;
    }

    /**
     * @param classes the number of classes when the archive has no index_to_name.json; 0 if unknown
     * @throws MarException naming what the archive holds that torchlight cannot serve and what to do
     */
    public Imported importMar(Path mar, Path repository, int classes) {
        if (!Files.isRegularFile(mar)) {
            throw new MarException(mar + ": no such file; expected a TorchServe .mar archive");
        }
        Path scratch;
        try {
            Files.createDirectories(repository);
            scratch = Files.createTempDirectory(repository, ".import-");
        } catch (IOException e) {
            throw new MarException("cannot write to " + repository + ": " + e.getMessage());
        }
        try {
            Path unpacked = scratch.resolve("mar");
            new SafeZipExtractor(limits).extract(mar, unpacked);
            return install(mar, unpacked, repository, classes);
        } finally {
            deleteTree(scratch);
        }
    }

    private Imported install(Path mar, Path unpacked, Path repository, int classes) {
        Path manifestFile = unpacked.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new MarException(mar + ": no " + MANIFEST + "; expected an archive made by torch-model-archiver");
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(Files.readString(manifestFile, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new MarException(mar + ": " + MANIFEST + " is not valid JSON: " + e.getMessage());
        }
        JsonNode model = manifest.path("model");
        String name = text(model, "modelName");
        String serialized = text(model, "serializedFile");
        String handler = text(model, "handler");
        String modelFile = text(model, "modelFile");
        String version = text(model, "modelVersion") == null ? DEFAULT_VERSION : text(model, "modelVersion").strip();
        if (!VERSION.matcher(version).matches() || version.equals("all")) {
            throw new MarException(mar + ": model.modelVersion in " + MANIFEST + " is '" + version + "'; expected a"
                    + " version such as 1.0 (no slash or space, at most 64 characters, not 'all')");
        }
        Batching batching = batching(mar, unpacked, text(model, "configFile"));
        if (name == null || !MODEL_NAME.matcher(name).matches()) {
            throw new MarException(mar + ": model.modelName in " + MANIFEST + " is " + (name == null ? "missing"
                    : "'" + name + "'") + "; expected a name of letters, digits, '.', '_' or '-'");
        }
        if (modelFile != null) {
            throw new MarException(mar + ": model '" + name + "' is an eager-mode model (" + modelFile + " with "
                    + serialized + "), which needs Python. Export it to TorchScript: in Python load the model, then"
                    + " torch.jit.script(model).save('model.pt') (or torch.jit.trace(model, example_input)), and"
                    + " archive it again with torch-model-archiver --serialized-file model.pt and no --model-file;"
                    + " or make the model directory by hand (docs/MIGRATING_FROM_TORCHSERVE.md)");
        }
        checkHandler(mar, name, handler);
        if (serialized == null) {
            throw new MarException(mar + ": model.serializedFile is missing from " + MANIFEST);
        }
        Path modelPt = unpacked.resolve(serialized).normalize();
        if (!modelPt.startsWith(unpacked) || !Files.isRegularFile(modelPt)) {
            throw new MarException(mar + ": the serialized file '" + serialized + "' named in " + MANIFEST
                    + " is not in the archive");
        }
        if (!isTorchScript(modelPt)) {
            throw new MarException(mar + ": " + serialized + " is not a TorchScript model (a state dict or pickled"
                    + " module needs Python and its model class). Export it with torch.jit.script(model).save("
                    + "'model.pt') or torch.jit.trace, then archive or import that file");
        }
        Path labels = unpacked.resolve(INDEX_TO_NAME);
        int n = Files.isRegularFile(labels) ? countClasses(mar, labels) : classes;
        if (n <= 0) {
            throw new MarException(mar + ": no " + INDEX_TO_NAME + " in the archive, so the number of classes is"
                    + " unknown; pass --classes N (the length of the model's output)");
        }
        Path target = repository.resolve(name);
        String config = config(name, n, mar, batching);
        try {
            if (Files.exists(target)) {
                return addVersion(mar, target, name, version, modelPt, labels, config, n);
            }
            Path staged = unpacked.resolveSibling("model");
            long folder = folderFor(version, target);
            Path versionDir = staged.resolve(Long.toString(folder));
            writeVersion(versionDir, modelPt, version, folder);
            if (Files.isRegularFile(labels)) {
                Files.move(labels, staged.resolve(INDEX_TO_NAME));
            }
            Files.writeString(staged.resolve(ModelSource.CONFIG_FILE), config, StandardCharsets.UTF_8);
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
            return new Imported(name, target, version, target.resolve(Long.toString(folder)), n);
        } catch (IOException e) {
            throw new MarException("cannot write " + target + ": " + e.getMessage());
        }
    }

    /**
     * Another version of a model already in the repository (TorchServe registers versions of one
     * model from separate archives): its own version folder, beside the others, when the model's
     * config and labels are the same as the ones there.
     */
    private Imported addVersion(Path mar, Path target, String name, String version, Path modelPt, Path labels,
            String config, int classes) throws IOException {
        Path existingConfig = target.resolve(ModelSource.CONFIG_FILE);
        if (!Files.isRegularFile(existingConfig)
                || !withoutComments(Files.readString(existingConfig, StandardCharsets.UTF_8))
                        .equals(withoutComments(config))) {
            throw new MarException(target + " already exists with another config.yaml than " + mar.getFileName()
                    + " makes; the versions of a model share one config. Remove the directory, import into another"
                    + " --model-repository, or add the version folder by hand");
        }
        Path existingLabels = target.resolve(INDEX_TO_NAME);
        if (Files.isRegularFile(labels) != Files.isRegularFile(existingLabels) || Files.isRegularFile(labels)
                && Files.mismatch(labels, existingLabels) != -1) {
            throw new MarException(target + " already exists with other labels (" + INDEX_TO_NAME + ") than "
                    + mar.getFileName() + "; the versions of a model share their labels");
        }
        for (Path dir : versionFolders(target)) {
            if (version.equals(versionName(dir))) {
                throw new MarException("version " + version + " of model '" + name + "' is already in " + dir
                        + "; nothing imported");
            }
        }
        long folder = folderFor(version, target);
        Path staged = modelPt.getParent().resolveSibling("version");
        writeVersion(staged, modelPt, version, folder);
        Path versionDir = target.resolve(Long.toString(folder));
        Files.move(staged, versionDir, StandardCopyOption.ATOMIC_MOVE);
        return new Imported(name, target, version, versionDir, classes);
    }

    /** The version's folder: its own number when the version is one and that folder is free, else the next free number. */
    private static long folderFor(String version, Path target) throws IOException {
        long highest = 0;
        for (Path dir : versionFolders(target)) {
            highest = Math.max(highest, Long.parseLong(dir.getFileName().toString()));
        }
        if (version.length() <= 18 && version.chars().allMatch(c -> c >= '0' && c <= '9')) {
            long asNumber = Long.parseLong(version);
            if (asNumber > 0 && !Files.exists(target.resolve(Long.toString(asNumber)))) {
                return asNumber;
            }
        }
        return highest + 1;
    }

    /** The model file and, when the version is not the folder's number, its public name. */
    private static void writeVersion(Path versionDir, Path modelPt, String version, long folder) throws IOException {
        Files.createDirectories(versionDir);
        Files.move(modelPt, versionDir.resolve(ModelSource.MODEL_FILE));
        if (!version.equals(Long.toString(folder))) {
            Files.writeString(versionDir.resolve(ModelSource.VERSION_NAME_FILE), version + "\n", StandardCharsets.UTF_8);
        }
    }

    private static List<Path> versionFolders(Path target) throws IOException {
        if (!Files.isDirectory(target)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(target)) {
            return entries.filter(Files::isDirectory)
                    .filter(p -> p.getFileName().toString().matches("[0-9]{1,18}"))
                    .sorted().toList();
        }
    }

    /** A version folder's public name: its version.txt, else its number. */
    private static String versionName(Path dir) throws IOException {
        Path file = dir.resolve(ModelSource.VERSION_NAME_FILE);
        if (!Files.isRegularFile(file)) {
            return dir.getFileName().toString();
        }
        return Files.readString(file, StandardCharsets.UTF_8).strip().lines().findFirst().orElse("").strip();
    }

    private static String withoutComments(String yaml) {
        return yaml.lines().filter(l -> !l.stripLeading().startsWith("#")).reduce("", (a, b) -> a + b + "\n");
    }

    private static void checkHandler(Path mar, String name, String handler) {
        String h = handler == null ? "" : handler.strip();
        if (h.equals("image_classifier")) {
            return;
        }
        if (OTHER_BUILTINS.contains(h)) {
            throw new MarException(mar + ": model '" + name + "' uses TorchServe's built-in " + h + " handler;"
                    + " torchlight's built-in handlers are image_classifier and tensor. Serve the model with"
                    + " 'handler: tensor' (clients send tensors) or write a Java handler (docs/HANDLERS.md)");
        }
        throw new MarException(mar + ": model '" + name + "' uses the Python handler '" + h + "', which torchlight"
                + " cannot run. Port its preprocess and postprocess to a Java handler (docs/HANDLERS.md, example in"
                + " examples/custom-handler) and make the model directory by hand, or, if it only does image"
                + " classification with torchvision's Resize/CenterCrop/Normalize, archive the model again with"
                + " --handler image_classifier");
    }

    /** TorchScript archives hold the model's code (…/code/__torch__…); state dicts and pickles do not. */
    static boolean isTorchScript(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.stream().anyMatch(e -> e.getName().contains("/code/") || e.getName().startsWith("code/"));
        } catch (IOException e) {
            return false;
        }
    }

    private static int countClasses(Path mar, Path labels) {
        try {
            JsonNode root = JSON.readTree(Files.readString(labels, StandardCharsets.UTF_8));
            if (!root.isObject() || root.isEmpty()) {
                throw new MarException(mar + ": " + INDEX_TO_NAME + " is not an object from class index to name");
            }
            int max = -1;
            for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
                String key = it.next();
                try {
                    max = Math.max(max, Integer.parseInt(key.strip()));
                } catch (NumberFormatException e) {
                    throw new MarException(mar + ": " + INDEX_TO_NAME + " has key '" + key
                            + "', which is not a class index");
                }
            }
            return max + 1;
        } catch (IOException e) {
            throw new MarException(mar + ": " + INDEX_TO_NAME + " is not valid JSON: " + e.getMessage());
        }
    }

    /** Batch size and queue delay, from the archive's model-config.yaml or the defaults. */
    record Batching(int maxBatchSize, long maxQueueDelayUs) {
        static final Batching DEFAULT = new Batching(8, 5_000);
    }

    /**
     * TorchServe's model-config.yaml ({@code configFile} in the manifest): {@code batchSize} and
     * {@code maxBatchDelay} (ms) carry over; worker and device settings have no equivalent here.
     */
    private static Batching batching(Path mar, Path unpacked, String configFile) {
        if (configFile == null) {
            return Batching.DEFAULT;
        }
        Path file = unpacked.resolve(configFile).normalize();
        if (!file.startsWith(unpacked) || !Files.isRegularFile(file)) {
            throw new MarException(mar + ": the model config '" + configFile + "' named in " + MANIFEST
                    + " is not in the archive");
        }
        YamlSection yaml;
        try {
            yaml = YamlSection.read(file);
        } catch (ConfigException e) {
            throw new MarException(mar + ": " + e.getMessage());
        }
        int size = yaml.keys().contains("batchSize") ? requirePositive(mar, yaml, "batchSize", 1 << 20)
                : Batching.DEFAULT.maxBatchSize();
        long delayMs = yaml.keys().contains("maxBatchDelay") ? requirePositive(mar, yaml, "maxBatchDelay", 60_000)
                : Batching.DEFAULT.maxQueueDelayUs() / 1000;
        return new Batching(size, delayMs * 1000);
    }

    private static int requirePositive(Path mar, YamlSection yaml, String key, int max) {
        try {
            return yaml.requireInt(key, 1, max);
        } catch (ConfigException e) {
            throw new MarException(mar + ": " + e.getMessage());
        }
    }

    /** ImageNet-style input, dynamic batching on; the user can edit the file afterwards. */
    static String config(String name, int classes, Path mar, Batching batching) {
        return String.join("\n", List.of(
                "# Imported from " + mar.getFileName() + " by torchlight import-mar.",
                "# TorchServe's image_classifier: Resize(256), CenterCrop(224), ImageNet mean/std, top 5.",
                "name: " + name,
                "platform: torchscript",
                "max_batch_size: " + batching.maxBatchSize(),
                "inputs:",
                "  - name: input",
                "    datatype: FP32",
                "    shape: [3, 224, 224]",
                "outputs:",
                "  - name: scores",
                "    datatype: FP32",
                "    shape: [" + classes + "]",
                "dynamic_batching:",
                "  max_queue_delay_us: " + batching.maxQueueDelayUs(),
                "handler: image_classifier",
                "topk: 5",
                ""));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() && !v.textValue().isBlank() ? v.textValue() : null;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
