package dev.torchlight.scheduler;

/** Thread helpers shared by the scheduler and its instances. */
final class Threads {
    /**
     * The stack of the thread that loads and runs an instance's model. Native code runs on it
     * (libtorch's TorchScript interpreter, an AOTInductor package's compiled wrapper), and where
     * models are made and tried, in Python, it runs on an 8 MiB main thread, against the JVM's
     * default of 1 MiB. Reserved address space: pages the thread never touches cost no memory.
     */
    static final long MODEL_STACK_BYTES = 16L << 20;

    private Threads() {}

    /**
     * Waits for {@code thread} to end even if interrupted meanwhile (shutdown must not leave
     * requests unanswered), then restores the caller's interrupt flag.
     */
    static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
