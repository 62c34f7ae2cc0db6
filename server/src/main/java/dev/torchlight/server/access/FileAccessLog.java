package dev.torchlight.server.access;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An access log appended to a file by its own thread. Request threads only offer an entry to a
 * bounded queue; formatting and I/O happen on the writer, which every
 * {@value #FLUSH_INTERVAL_MILLIS} ms appends and flushes what has queued up, so a line is on disk
 * within moments of its request and the writer costs one wake-up per interval, not per request.
 * When the queue is full (the disk is slower than the traffic) entries are dropped and counted
 * rather than slowing requests down.
 */
public final class FileAccessLog implements AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger(FileAccessLog.class);
    static final int CAPACITY = 65_536;
    /** How often the writer appends what was recorded: lines reach the file within about this long. */
    static final long FLUSH_INTERVAL_MILLIS = 20;
    private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MILLIS);

    private final Path file;
    private final BlockingQueue<AccessEntry> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final OutputStream out;
    private final JsonGenerator json;
    private final Thread writer;
    private volatile boolean closed;

    private FileAccessLog(Path file, OutputStream out, JsonGenerator json) {
        this.file = file;
        this.out = out;
        this.json = json;
        this.writer = Thread.ofPlatform().name("access-log").daemon(true).unstarted(this::drain);
    }

    /**
     * Opens (creating its directory) {@code file} for appending and starts the writer.
     *
     * @throws UncheckedIOException naming the file when it cannot be opened
     */
    public static FileAccessLog open(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            OutputStream out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE), 64 * 1024);
            JsonGenerator json = new JsonFactory().createGenerator(out);
            json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            json.setRootValueSeparator(null);
            FileAccessLog log = new FileAccessLog(file, out, json);
            log.writer.start();
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the access log " + file + ": " + e
                    + "; choose another file with --access-log FILE, or turn it off with --no-access-log", e);
        }
    }

    @Override
    public boolean enabled() {
        return !closed;
    }

    @Override
    public void record(AccessEntry entry) {
        if (!queue.offer(entry)) {
            dropped.increment();
        }
    }

    /** Entries dropped because the writer fell behind. */
    public long dropped() {
        return dropped.sum();
    }

    /** The file written. */
    public Path file() {
        return file;
    }

    private void drain() {
        List<AccessEntry> batch = new ArrayList<>(4096);
        boolean failed = false;
        boolean last = false;
        while (!last) {
            // Polling on a fixed beat, not blocking on the queue: a writer parked on the queue would
            // be woken by every request, and those wake-ups cost more than writing the lines.
            LockSupport.parkNanos(this, FLUSH_INTERVAL_NANOS);
            last = closed;
            while (queue.drainTo(batch, 4096) > 0) {
                if (!failed) {
                    failed = !write(batch);
                }
                batch.clear();
            }
        }
        try {
            json.close();
            out.close();
        } catch (IOException e) {
            LOG.warn("access log {}: closing failed: {}", file, e.getMessage());
        }
    }

    /** @return false when the file cannot be written (logged once; later entries are dropped) */
    private boolean write(List<AccessEntry> batch) {
        try {
            for (AccessEntry e : batch) {
                AccessLogFormat.write(json, e);
            }
            json.flush();
            return true;
        } catch (IOException e) {
            // One error line, not one per request; requests keep being served.
            LOG.error("access log {}: cannot write ({}); no further lines are written", file, e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dropped() > 0) {
            LOG.warn("access log {}: {} entries were dropped because the disk fell behind", file, dropped());
        }
    }
}
