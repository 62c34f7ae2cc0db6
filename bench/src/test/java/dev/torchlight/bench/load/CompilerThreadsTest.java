package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CompilerThreadsTest {
    @Test
    void theJitCompilerThreadsAndNoOthersMoveToTheIdleSchedulingClass() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux");
        int lowered = CompilerThreads.lower();

        List<Integer> compilers = new ArrayList<>();
        List<Integer> others = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String name;
                String stat;
                try {
                    name = Files.readString(task.resolve("comm")).strip();
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // a thread that ended meanwhile
                }
                // Field 41 is the scheduling policy; the name, field 2, may hold spaces but ends at ')'.
                int policy = Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[38]);
                (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre") ? compilers : others)
                        .add(policy);
            }
        }
        assertThat(compilers).as("this JVM's compiler threads").isNotEmpty().containsOnly(CompilerThreads.SCHED_IDLE);
        assertThat(lowered).isGreaterThanOrEqualTo(1);
        assertThat(others).as("every other thread, this one included").doesNotContain(CompilerThreads.SCHED_IDLE);
    }
}
