package dev.torchlight.engine.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PyTorchRuntimeTest {

    @Test
    void configureOfflineSetsOnlyWhatIsUnset() {
        String cacheDir = System.getProperty(PyTorchRuntime.CACHE_DIR);
        String offline = System.getProperty(PyTorchRuntime.OFFLINE);
        try {
            System.setProperty(PyTorchRuntime.CACHE_DIR, "/already/set");
            System.clearProperty(PyTorchRuntime.OFFLINE);

            PyTorchRuntime.configureOffline(Path.of("/elsewhere"));

            assertThat(System.getProperty(PyTorchRuntime.CACHE_DIR)).isEqualTo("/already/set");
            assertThat(System.getProperty(PyTorchRuntime.OFFLINE)).isEqualTo("true");

            System.clearProperty(PyTorchRuntime.CACHE_DIR);
            PyTorchRuntime.configureOffline(Path.of("/elsewhere"));

            assertThat(System.getProperty(PyTorchRuntime.CACHE_DIR)).isEqualTo("/elsewhere");
        } finally {
            restore(PyTorchRuntime.CACHE_DIR, cacheDir);
            restore(PyTorchRuntime.OFFLINE, offline);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
