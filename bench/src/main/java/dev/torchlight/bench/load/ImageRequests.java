package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.http.PreparedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Requests carrying real image files for {@code --image-dir}, one file per request: the file as
 * the raw body with its image content type for TorchServe's {@code /predictions}, or a v2 request
 * with one BYTES input holding the file in base64. Encoded once, before the run.
 */
final class ImageRequests {
    /** At most this many files are read; they are sent in turn. */
    static final int MAX_FILES = 256;

    private ImageRequests() {}

    static List<PreparedRequest> build(HttpTarget target, LoadOptions options) {
        List<Path> files;
        try (Stream<Path> list = Files.list(options.imageDir())) {
            files = list.filter(ImageRequests::isImage).sorted().limit(MAX_FILES).toList();
        } catch (IOException e) {
            throw new LoadBenchException("cannot list --image-dir " + options.imageDir() + ": " + e, e);
        }
        if (files.isEmpty()) {
            throw new LoadBenchException("--image-dir " + options.imageDir() + " holds no .jpg, .jpeg or .png files");
        }
        Protocol protocol = options.protocol();
        if (protocol != Protocol.TORCHSERVE && protocol != Protocol.V2_JSON) {
            throw new LoadBenchException("--image-dir needs --protocol torchserve or v2-json, not " + protocol);
        }
        String path = protocol.path(options);
        List<PreparedRequest> requests = new ArrayList<>(files.size());
        for (Path file : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                requests.forEach(PreparedRequest::close);
                throw new LoadBenchException("cannot read " + file + ": " + e, e);
            }
            if (protocol == Protocol.TORCHSERVE) {
                requests.add(PreparedRequest.of(target, "POST", path, Map.of("Content-Type", contentType(file)), bytes));
            } else {
                String body = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\""
                        + Base64.getEncoder().encodeToString(bytes) + "\"]}]}";
                requests.add(PreparedRequest.of(target, "POST", path, Map.of("Content-Type", "application/json"),
                        body.getBytes(StandardCharsets.US_ASCII)));
            }
        }
        return requests;
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png"));
    }

    private static String contentType(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png") ? "image/png" : "image/jpeg";
    }
}
