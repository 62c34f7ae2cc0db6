package dev.torchlight.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What an application gets with this artifact: the class path this module's tests run with (its
 * runtime dependencies, plus JUnit and AssertJ) holds no class of the server's frameworks, whatever
 * jar it would come in (a shaded copy included).
 */
class ClassPathTest {
    private static final List<String> FORBIDDEN = List.of("io/netty/", "io/grpc/", "com/fasterxml/", "io/prometheus/");

    @Test
    void noNettyGrpcJacksonOrPrometheusClassIsOnTheClassPath() throws IOException {
        List<String> entries = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
        // Guard against a vacuous pass: the core and the engine are there, as jars or class folders.
        assertThat(entries).anyMatch(e -> e.contains("core")).anyMatch(e -> e.contains("engine-libtorch"));
        List<String> found = new ArrayList<>();
        int classes = 0;
        for (String entry : entries) {
            for (String name : classNames(Path.of(entry))) {
                classes++;
                if (FORBIDDEN.stream().anyMatch(name::startsWith)) {
                    found.add(entry + "!" + name);
                }
            }
        }
        assertThat(classes).as("classes scanned").isGreaterThan(1000);
        assertThat(found).as("classes of %s on the class path", FORBIDDEN).isEmpty();
    }

    @Test
    void theServerFrameworksAreNotLoadable() {
        for (String name : List.of("io.netty.channel.Channel", "io.grpc.Server", "com.fasterxml.jackson.core.JsonFactory",
                "io.prometheus.metrics.model.registry.PrometheusRegistry")) {
            assertThat(loadable(name)).as(name).isFalse();
        }
        assertThat(loadable("dev.torchlight.engine.libtorch.LibTorchEngine")).isTrue();
    }

    private static boolean loadable(String name) {
        try {
            Class.forName(name, false, ClassPathTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The class files of a jar or a class folder, as jar entry names ({@code a/b/C.class}). */
    private static List<String> classNames(Path entry) throws IOException {
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(entry)) {
            try (Stream<Path> files = Files.walk(entry)) {
                files.filter(f -> f.toString().endsWith(".class"))
                        .forEach(f -> names.add(entry.relativize(f).toString().replace(File.separatorChar, '/')));
            }
        } else if (Files.isRegularFile(entry) && entry.toString().endsWith(".jar")) {
            try (JarFile jar = new JarFile(entry.toFile())) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String name = e.nextElement().getName();
                    if (name.endsWith(".class")) {
                        names.add(name);
                    }
                }
            }
        }
        return names;
    }
}
