package dev.torchlight.engine.pytorch;

/** Turns libtorch's multi-line errors into one line fit for a client. */
final class NativeErrors {
    private NativeErrors() {}

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
