package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryFileTest {
    @TempDir
    Path tmp;

    @Test
    void theBuildPutsTheLibraryAndItsLibtorchOnTheClassPath() {
        LibraryFile file = LibraryFile.locate();

        assertThat(file.library()).isRegularFile().hasFileName(LibraryFile.LIBRARY_NAME);
        assertThat(file.libtorchDir()).isDirectory();
        assertThat(file.libtorchVersion()).matches("\\d+\\.\\d+\\.\\d+");
    }

    @Test
    void aLibraryNamedByThePropertyMustExist() {
        Path missing = tmp.resolve("libtorchlight_engine.so");
        assertThatThrownBy(() -> locateNamedByTheProperty(missing))
                .isInstanceOf(EngineException.class)
                .hasMessage("the engine library " + missing + " named by system property "
                        + LibraryFile.PROPERTY + " does not exist");
    }

    @Test
    void aLibraryNamedByThePropertyReadsTheLibtorchPropertiesBesideIt() throws IOException {
        Path library = Files.writeString(tmp.resolve(LibraryFile.LIBRARY_NAME), "not really a library");
        Files.writeString(tmp.resolve(LibraryFile.PROPERTIES_NAME), "libtorch.dir=/opt/libtorch/lib\nlibtorch.version=2.9.1\n");
        assertThat(locateNamedByTheProperty(library))
                .isEqualTo(new LibraryFile(library, Path.of("/opt/libtorch/lib"), "2.9.1"));
    }

    @Test
    void aLibtorchThatIsGoneIsAClearMessageBeforeTheLoaderTries() {
        LibraryFile file = new LibraryFile(tmp.resolve("lib.so"), tmp.resolve("gone/lib"), "2.13.0");

        assertThatThrownBy(() -> EngineLibrary.load(file))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("was built against libtorch 2.13.0 in " + tmp.resolve("gone/lib"))
                .hasMessageContaining("no longer exists")
                .hasMessageContaining("tools/python-env.sh")
                .hasMessageContaining("LIBTORCH=");
    }

    @Test
    void aFileTheLoaderRefusesIsAnEngineExceptionWithTheLoadersReason() throws IOException {
        Path notElf = Files.writeString(tmp.resolve(LibraryFile.LIBRARY_NAME), "not really a library");

        assertThatThrownBy(() -> EngineLibrary.load(new LibraryFile(notElf, null, null)))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("cannot load the engine library " + notElf + ": ");
    }

    /** {@link LibraryFile#locate()} with the system property naming {@code library}, restored after. */
    private static LibraryFile locateNamedByTheProperty(Path library) {
        String before = System.getProperty(LibraryFile.PROPERTY);
        System.setProperty(LibraryFile.PROPERTY, library.toString());
        try {
            return LibraryFile.locate();
        } finally {
            if (before == null) {
                System.clearProperty(LibraryFile.PROPERTY);
            } else {
                System.setProperty(LibraryFile.PROPERTY, before);
            }
        }
    }
}
