package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTextTest {

    // The tests run as root in CI, where chmod 000 does not stop a read: the exceptions are made here.
    @Test
    void tellsWhyAFileCannotBeRead(@TempDir Path dir) {
        Path file = Path.of("unreadable.yaml");

        assertThat(ConfigText.unreadable(file, new AccessDeniedException(file.toString())))
                .isEqualTo("unreadable.yaml: is not readable (permission denied)");
        assertThat(ConfigText.unreadable(file, new NoSuchFileException(file.toString())))
                .isEqualTo("unreadable.yaml: no such file");
        assertThat(ConfigText.unreadable(file, new IOException("Input/output error")))
                .isEqualTo("unreadable.yaml: cannot be read (Input/output error)");
        assertThat(ConfigText.unreadable(dir, new IOException("Is a directory")))
                .isEqualTo(dir + ": cannot be read (it is a folder)");
    }
}
