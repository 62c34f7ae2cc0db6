package dev.torchlight.bench.load;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The load generator's own JIT compiler threads, moved to Linux's idle scheduling class
 * ({@code SCHED_IDLE}) when a level's measured window begins, where the generator has its JVM to
 * itself ({@link LoadBench#owningProcess}). A compilation still running then
 * would otherwise keep a core while the generator's event loop, woken by an answer or a due send,
 * waits its turn: on a two-core machine such waits reached milliseconds, latency charged to the
 * server being measured (a nice value of 10 still left waits of several milliseconds). An idle-class
 * thread gives way to any other at once and still gets every idle cycle, so compilations finish
 * whenever the cores are not saturated. Linux only (each thread is a task with its own policy, and
 * lowering it needs no privilege); elsewhere, or when the call fails, nothing changes.
 */
final class CompilerThreads {
    /** Linux's SCHED_IDLE policy. */
    static final int SCHED_IDLE = 5;
    private static final Path TASKS = Path.of("/proc/self/task");
    /** sched_setscheduler(2), or null where it cannot be called. */
    private static final MethodHandle SET_SCHEDULER = setScheduler();
    /** Its struct sched_param: a priority of 0, the only one SCHED_IDLE takes. */
    private static final MemorySegment PARAM = Arena.global().allocate(ValueLayout.JAVA_INT);

    private CompilerThreads() {}

    /** Moves every compiler thread to the idle class; returns how many were moved. */
    static int lower() {
        if (SET_SCHEDULER == null || !Files.isDirectory(TASKS)) {
            return 0;
        }
        int lowered = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                if (isCompiler(task) && set(Integer.parseInt(task.getFileName().toString()))) {
                    lowered++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // A thread that ended meanwhile, or no /proc: the run goes on at the priorities it has.
        }
        return lowered;
    }

    /** HotSpot names them "C1 CompilerThread0", "C2 CompilerThread1", … (15 characters kept). */
    private static boolean isCompiler(Path task) {
        try {
            String name = Files.readString(task.resolve("comm")).strip();
            return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean set(int tid) {
        try {
            return (int) SET_SCHEDULER.invokeExact(tid, SCHED_IDLE, PARAM) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    @SuppressWarnings("restricted") // a native call; the launcher enables native access
    private static MethodHandle setScheduler() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("sched_setscheduler")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
