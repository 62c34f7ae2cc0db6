package dev.torchlight.server.metrics.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FFM binding against a fake libnvidia-ml built from C at test time (skipped without a C
 * compiler): the real native calls, argument types and struct layouts, with no GPU needed.
 */
class NvmlLibraryTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryQuantityThroughTheNativeCalls() throws Exception {
        Optional<Nvml> loaded = NvmlLibrary.load(build("libfakenvml.so").toString());
        assertThat(loaded).isPresent();
        Nvml nvml = loaded.get();

        assertThat(nvml.deviceCount()).isEqualTo(2);
        GpuReading first = nvml.read(0);
        assertThat(first).isEqualTo(new GpuReading(0, "Fake GPU 0", 0.42, 1L << 30, 80L << 30, 250.5, 60));
        GpuReading second = nvml.read(1);
        assertThat(second.name()).isEqualTo("Fake GPU 1");
        assertThat(second.utilization()).isEqualTo(0.43);
        assertThat(second.memoryUsedBytes()).isEqualTo(2L << 30);
        assertThat(second.powerWatts()).as("not supported by this board").isNaN();
        assertThat(second.temperatureCelsius()).isEqualTo(61);
        assertThat(nvml.read(5).name()).as("no such device").isEqualTo("unknown");
    }

    @Test
    void aLibraryThatDoesNotInitialiseMeansNoGpuMetrics() throws Exception {
        assertThat(NvmlLibrary.load(build("libfakenvml_noinit.so", "-DINIT_FAILS").toString())).isEmpty();
    }

    private Path build(String name, String... defines) throws IOException, InterruptedException {
        String cc = compiler();
        Assumptions.assumeTrue(cc != null, "no C compiler to build the fake NVML library");
        Path source = dir.resolve("fake_nvml.c");
        try (InputStream in = NvmlLibraryTest.class.getResourceAsStream("/nvml/fake_nvml.c")) {
            Files.copy(in, source);
        }
        Path library = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of(cc, "-shared", "-fPIC", "-o", library.toString()));
        command.addAll(List.of(defines));
        command.add(source.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        Files.deleteIfExists(source);
        return library;
    }

    private static String compiler() {
        String path = System.getenv("PATH");
        for (String name : List.of("cc", "gcc", "clang")) {
            for (String d : path == null ? new String[0] : path.split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(d, name))) {
                    return name;
                }
            }
        }
        return null;
    }
}
