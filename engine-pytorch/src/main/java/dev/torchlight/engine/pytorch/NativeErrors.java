package dev.torchlight.engine.pytorch;

import java.util.List;
import java.util.Locale;

/** Turns libtorch's multi-line errors into one line fit for a client, and recognizes running out of memory. */
final class NativeErrors {
    /**
     * Lower-case fragments of libtorch's out-of-memory errors: the CPU allocator ("DefaultCPUAllocator:
     * can't allocate memory: you tried to allocate N bytes", older "not enough memory"), CUDA ("CUDA out
     * of memory. Tried to allocate ...", "CUDA error: out of memory"), cuDNN and cuBLAS allocation
     * failures, and C++'s {@code std::bad_alloc}.
     */
    private static final List<String> OUT_OF_MEMORY = List.of(
            "out of memory",
            "can't allocate memory",
            "cannot allocate memory",
            "not enough memory",
            "not_enough_memory",
            "cublas_status_alloc_failed",
            "bad_alloc");

    private NativeErrors() {}

    /**
     * Whether {@code e} says the engine ran out of (host or device) memory, so that the same work in
     * smaller pieces may succeed. Looks at the whole message of {@code e} and of each cause, and
     * counts Java's own {@link OutOfMemoryError}.
     */
    static boolean outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError || outOfMemory(t.getMessage())) {
                return true;
            }
        }
        return false;
    }

    /** Whether an engine error message says it ran out of memory. */
    static boolean outOfMemory(String message) {
        if (message == null) {
            return false;
        }
        String text = message.toLowerCase(Locale.ROOT);
        for (String fragment : OUT_OF_MEMORY) {
            if (text.contains(fragment)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The informative line of an engine error. Errors raised inside the TorchScript interpreter open
     * with a generic sentence and two tracebacks and end with the actual error ("RuntimeError: ..."),
     * so those yield their last line; any other error yields its first.
     */
    static String message(Throwable e) {
        Throwable root = e;
        while (root.getMessage() == null && root.getCause() != null) {
            root = root.getCause();
        }
        String text = root.getMessage();
        if (text == null || text.isBlank()) {
            return root.getClass().getSimpleName();
        }
        String[] lines = text.strip().split("\\R");
        String line = text.contains("Traceback of TorchScript") ? lines[lines.length - 1] : lines[0];
        return line.strip();
    }
}
