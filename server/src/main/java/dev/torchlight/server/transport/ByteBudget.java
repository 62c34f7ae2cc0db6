package dev.torchlight.server.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A number of request bytes that may be held at once ({@code --max-inflight-bytes}): a listener
 * reserves a request's bytes before it keeps them and releases them once the request is answered or
 * abandoned; what does not fit is refused. Listeners that share a budget each take a {@link #share()},
 * which draws on the whole and counts its own part, so that each protocol can say what it holds.
 * Thread-safe.
 */
public final class ByteBudget {
    private final long capacity;
    private final ByteBudget whole;
    private final AtomicLong used = new AtomicLong();

    /** A budget of {@code capacity} bytes. */
    public ByteBudget(long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative, got " + capacity);
        }
        this.capacity = capacity;
        this.whole = null;
    }

    private ByteBudget(ByteBudget whole) {
        this.capacity = whole.capacity;
        this.whole = whole;
    }

    /** A part of this budget: its reservations count here and in this budget, and fit only if they fit here. */
    public ByteBudget share() {
        return new ByteBudget(this);
    }

    /** The most bytes that may be held at once (of the whole, for a share). */
    public long capacity() {
        return capacity;
    }

    /** Bytes held now (this share's part, for a share). */
    public long used() {
        return used.get();
    }

    /**
     * Reserves {@code bytes} if they fit.
     *
     * @return whether they were reserved; nothing is reserved when they do not fit
     */
    public boolean tryReserve(long bytes) {
        if (whole != null) {
            if (!whole.tryReserve(bytes)) {
                return false;
            }
            used.addAndGet(bytes);
            return true;
        }
        while (true) {
            long now = used.get();
            if (now + bytes > capacity) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Gives back {@code bytes} reserved earlier; nothing for zero or less. */
    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        used.addAndGet(-bytes);
        if (whole != null) {
            whole.release(bytes);
        }
    }
}
