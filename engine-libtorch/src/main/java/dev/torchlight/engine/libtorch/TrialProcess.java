package dev.torchlight.engine.libtorch;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.Placement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and runs a model file once in a child JVM ({@link TrialMain}) before the server loads it, for
 * the files that have crashed processes that loaded them: AOTInductor packages, which brought
 * PyTorch 2.11 down with a SIGSEGV in the package's own code on the H200 machine (CUDA packages, and
 * CPU packages compiled there too), PyTorch alone and torchlight alike. A crash there would take
 * every model of the server with it; in the child it becomes a failed load with the signal and the faulting frame in its message. A file that passed
 * (same path, size and modification time, same device) is not tried again, so later instances and
 * reloads of an unchanged version cost nothing.
 */
final class TrialProcess {
    private static final Logger LOG = LoggerFactory.getLogger(TrialProcess.class);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** The child JVM's crash report, in its working folder. */
    private static final String CRASH_REPORT = "hs_err_trial.log";

    private final Path library;
    private final List<String> jvmOptions;
    private final Duration timeout;
    private final Set<String> passed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger started = new AtomicInteger();

    /** @param library the engine library the server uses, which the child loads too */
    TrialProcess(Path library) {
        this(library, List.of(), DEFAULT_TIMEOUT);
    }

    /** @param jvmOptions more options for the child JVM (tests: to make it crash for real) */
    TrialProcess(Path library, List<String> jvmOptions, Duration timeout) {
        this.library = library;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.timeout = timeout;
    }

    /** How many children this has started. */
    int started() {
        return started.get();
    }

    /**
     * Whether the server tries a file in a child before loading it on {@code placement}: every
     * AOTInductor package, on a GPU or the CPU (on the GPU machine PyTorch died running CPU packages
     * it had compiled there, too); not TorchScript, which libtorch interprets rather than running
     * compiled code from the file, and not a model that places itself.
     */
    static boolean wanted(boolean aoti, Placement placement) {
        return aoti && placement.kind() != Placement.Kind.MODEL;
    }

    /**
     * Loads {@code file} in a child where {@code placement} says and runs it on zeros of batch 1.
     * An error there (not a crash) is left for the server's own load to report; a trial that cannot
     * run at all (no temporary folder, no process, a JVM that will not start) is logged and skipped.
     *
     * @throws EngineException when the child crashed or did not finish in time, naming how
     */
    void check(ModelConfig config, Path file, Placement placement) {
        check(config.name(), config.modelInputs().stream().map(spec -> input(spec, config.batched())).toList(), file,
                placement);
    }

    /** @param inputs the model's inputs as {@link TrialMain} takes them */
    void check(String model, List<String> inputs, Path file, Placement placement) {
        String key = key(file, placement);
        if (passed.contains(key)) {
            return;
        }
        started.incrementAndGet();
        List<String> command = command(inputs, file, placement);
        Path work;
        try {
            work = Files.createTempDirectory("torchlight-trial-");
        } catch (IOException e) {
            LOG.warn("model '{}': no folder for the trial load of {} ({}), loading it without one", model, file,
                    e.toString());
            return;
        }
        try {
            Integer status = run(command, work, model, file);
            if (status == null) {
                return;
            }
            if (status == 0 || status == TrialMain.FAILED) {
                passed.add(key);
                return;
            }
            // The JVM ends a crash with status 1 (it writes no core) and its crash report; a process killed
            // by a signal has status 128 + the signal. Anything else is the trial's own trouble (say, a
            // class path it cannot use), which must not keep the model from loading.
            if (status <= 128 && !Files.isRegularFile(work.resolve(CRASH_REPORT))) {
                LOG.warn("model '{}': the trial load of {} could not run ({}), loading it without one: {}", model, file,
                        ending(status), tail(work.resolve("output.txt")));
                return;
            }
            String what = file.getFileName().toString().endsWith(".pt2") ? "the AOTInductor package" : "the model file";
            throw new EngineException("model '" + model + "': " + what + " " + file + " crashed the process"
                    + " that loaded it on " + placement + " as a trial (" + ending(status) + crashFrame(work) + "), so"
                    + " it is not loaded into the server, which that crash would have taken down with every model."
                    + " PyTorch itself has crashed this way running AOTInductor packages (docs/GPU.md,"
                    + " \"Known problems\"); serve the model as TorchScript, or compile the package with the"
                    + " PyTorch the server runs." + crashOutput(work.resolve("output.txt")));
        } finally {
            deleteQuietly(work);
        }
    }

    /** The child's exit status; null when it could not be started (logged: the load goes on without a trial). */
    private Integer run(List<String> command, Path work, String model, Path file) {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(work.resolve("output.txt").toFile()).start();
        } catch (IOException e) {
            LOG.warn("model '{}': cannot start the trial load of {} ({}), loading it without one", model, file,
                    e.toString());
            return null;
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor();
                throw new EngineException("model '" + model + "': the trial load of " + file + " did not"
                        + " finish in " + timeout.toSeconds() + " s; not loading it into the server");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new EngineException("model '" + model + "': interrupted during the trial load of " + file, e);
        }
    }

    /** The child's command line: this JVM's java, class path and the engine library. */
    List<String> command(List<String> inputs, Path file, Placement placement) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:-CreateCoredumpOnCrash");
        command.add("-XX:ErrorFile=" + CRASH_REPORT);
        command.add("-D" + LibraryFile.PROPERTY + "=" + library);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(TrialMain.class.getName());
        command.add(file.toAbsolutePath().toString());
        command.add(placement.kind() == Placement.Kind.GPU ? Integer.toString(placement.device()) : "cpu");
        command.addAll(inputs);
        return command;
    }

    /** {@code TYPE:d0,...} for one row: batch 1, and 1 for each variable dimension. */
    static String input(TensorSpec spec, boolean batched) {
        Stream<Long> dims = Arrays.stream(spec.shape()).boxed().map(d -> d < 0 ? 1 : d);
        if (batched && !spec.ragged()) {
            dims = Stream.concat(Stream.of(1L), dims);
        }
        return spec.dataType() + ":" + dims.map(String::valueOf).collect(Collectors.joining(","));
    }

    private static String key(Path file, Placement placement) {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            return file.toAbsolutePath() + "|" + Files.size(file) + "|" + modified.toMillis() + "|" + placement;
        } catch (IOException e) {
            return file.toAbsolutePath() + "|" + placement; // the load itself will say what is wrong
        }
    }

    /** "SIGSEGV" for a death by signal 11 (Java reports 128 + the signal), else the exit status. */
    static String ending(int status) {
        if (status > 128 && status < 160) {
            int signal = status - 128;
            String name = switch (signal) {
                case 4 -> "SIGILL";
                case 6 -> "SIGABRT";
                case 7 -> "SIGBUS";
                case 8 -> "SIGFPE";
                case 9 -> "SIGKILL";
                case 11 -> "SIGSEGV";
                default -> "signal " + signal;
            };
            return name + ", exit status " + status;
        }
        return "exit status " + status;
    }

    /** "; SIGNAL at ...; at FRAME" from the JVM's crash report, when it wrote one. */
    private static String crashFrame(Path work) {
        Path report = work.resolve(CRASH_REPORT);
        if (!Files.isRegularFile(report)) {
            return "";
        }
        try {
            List<String> lines = Files.readAllLines(report);
            StringBuilder found = new StringBuilder();
            // The first indented line says what happened: "SIGSEGV (0xb) at pc=...", "Internal Error (...)".
            lines.stream().filter(l -> l.startsWith("#  ") && !l.isBlank()).findFirst()
                    .ifPresent(l -> found.append("; ").append(l.substring(1).trim()));
            for (int i = 0; i + 1 < lines.size(); i++) {
                if (lines.get(i).startsWith("# Problematic frame:")) {
                    found.append("; at ").append(lines.get(i + 1).replaceFirst("^#\\s*", "").trim());
                    break;
                }
            }
            return found.toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** " Trial output: ..." without the JVM's crash banner (the signal and frame are already named); "" if none. */
    private static String crashOutput(Path output) {
        try (Stream<String> lines = Files.lines(output)) {
            String own = lines.filter(l -> !l.startsWith("#") && !l.contains("[warning][os]") && !l.isBlank())
                    .collect(Collectors.joining("\n")).strip();
            if (own.isEmpty()) {
                return "";
            }
            return " Trial output: " + lastChars(own);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String tail(Path output) {
        try {
            String text = Files.readString(output).strip();
            return text.isEmpty() ? "(none)" : lastChars(text);
        } catch (IOException | RuntimeException e) {
            return "(unreadable)";
        }
    }

    /** The end of a child's output, enough for a message. */
    private static String lastChars(String text) {
        return text.length() <= 600 ? text : "..." + text.substring(text.length() - 600);
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.debug("could not delete {}: {}", dir, e.getMessage());
        }
    }
}
