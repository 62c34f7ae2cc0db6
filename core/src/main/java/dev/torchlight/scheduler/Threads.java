package dev.torchlight.scheduler;

/** Thread helpers shared by the scheduler and its instances. */
final class Threads {
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
