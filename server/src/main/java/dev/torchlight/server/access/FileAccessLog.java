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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An access log appended to a file by its own thread. Request threads only offer an entry to a
 * bounded queue; formatting and I/O happen on the writer, which flushes whenever the queue runs
 * dry, so a line is on disk within moments of its request. When the queue is full (the disk is
 * slower than the traffic) entries are dropped and counted rather than slowing requests down.
 */
public final class FileAccessLog implements AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger(FileAccessLog.class);
    static final int CAPACITY = 65_536;
    private static final AccessEntry STOP = new AccessEntry(0, "", "", null, 0, 0, 0, 0, 0, 0, 0, 0);

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
            throw new UncheckedIOException("cannot open the access log " + file + ": " + e.getMessage(), e);
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
        List<AccessEntry> batch = new ArrayList<>(1024);
        boolean failed = false;
        while (true) {
            AccessEntry first;
            try {
                first = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                first = STOP;
            }
            if (first == null) {
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, 1023);
            boolean stop = false;
            try {
                for (AccessEntry e : batch) {
                    if (e == STOP) {
                        stop = true;
                    } else if (!failed) {
                        AccessLogFormat.write(json, e);
                    }
                }
                if (!failed) {
                    json.flush();
                }
            } catch (IOException e) {
                // One error line, not one per request; requests keep being served.
                LOG.error("access log {}: cannot write ({}); no further lines are written", file, e.getMessage());
                failed = true;
            }
            batch.clear();
            if (stop) {
                break;
            }
        }
        try {
            json.close();
            out.close();
        } catch (IOException e) {
            LOG.warn("access log {}: closing failed: {}", file, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(STOP);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
