package dev.torchlight.server.management;

import dev.torchlight.api.ServingException;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.repository.archive.ArchiveException;
import dev.torchlight.repository.archive.ArchiveStore;
import dev.torchlight.repository.archive.ModelArchive;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Turns the {@code url} of a registration into a model folder, refusing what the operator did not
 * allow. A model folder or a {@code .tlar} archive inside the model repository is always allowed
 * (given relative to the repository or as an absolute path or {@code file:} URL, links resolved
 * first). Anything else, another local path or an {@code http(s)} URL, must match one of the
 * {@code --allowed-urls} patterns in full, else it is refused (403) without being touched: nothing
 * is fetched from an address that no pattern allows. Remote archives are downloaded (no redirects,
 * size-limited) into the {@link ArchiveStore} and unpacked there like local ones.
 */
public final class ModelRegistrar {
    /** Largest archive downloaded: the same bound as unpacking. */
    static final long MAX_DOWNLOAD_BYTES = 8L << 30;

    private final Path repositoryRoot;
    private final List<Pattern> allowed;
    private final ArchiveStore archives;
    private final HttpClient http;

    public ModelRegistrar(Path repositoryRoot, List<String> allowedUrls, ArchiveStore archives) {
        this.repositoryRoot = repositoryRoot.toAbsolutePath().normalize();
        this.allowed = allowedUrls.stream().map(Pattern::compile).toList();
        this.archives = archives;
        // Never follow redirects: a redirect could lead to an address no pattern allows.
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /**
     * @throws ServingException.InvalidInput for a missing or malformed url, or a file that is not a model
     * @throws ServingException.Unauthorized (403) for a url the allowlist does not cover
     * @throws ServingException.NotFound when the path does not exist
     */
    public ModelSource resolve(String url) {
        if (url == null || url.isBlank()) {
            throw new ServingException.InvalidInput("the url query parameter is required: a model folder or "
                    + ModelArchive.EXTENSION + " archive in the model repository, e.g. url=mlp or url=mlp"
                    + ModelArchive.EXTENSION);
        }
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            requireAllowed(url, "it is not in the model repository");
            return fetch(url);
        }
        Path path;
        try {
            if (lower.startsWith("file:")) {
                path = Path.of(URI.create(url));
            } else if (url.contains("://")) {
                throw refused(url, "only paths, file: and http(s) URLs are supported");
            } else {
                path = repositoryRoot.resolve(url);
            }
        } catch (IllegalArgumentException e) { // also InvalidPathException
            throw new ServingException.InvalidInput("url '" + url + "' is not a valid path or URL: " + e.getMessage());
        }
        Path absolute = path.toAbsolutePath().normalize();
        if (!inside(absolute)) {
            requireAllowed(url, "it is outside the model repository " + repositoryRoot);
        }
        if (!Files.exists(absolute)) {
            throw new ServingException.NotFound("url '" + url + "': " + absolute + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            if (absolute.getFileName() == null) {
                throw new ServingException.InvalidInput("url '" + url + "' names no model folder");
            }
            return ModelRepository.folder(absolute.getFileName().toString(), absolute);
        }
        if (absolute.toString().endsWith(ModelArchive.EXTENSION)) {
            return unpack(absolute, url);
        }
        throw new ServingException.InvalidInput("url '" + url + "' is neither a model folder (config.yaml and"
                + " <version>/model.pt) nor a " + ModelArchive.EXTENSION + " archive");
    }

    /** Whether the path, links resolved, lies inside the repository. */
    private boolean inside(Path absolute) {
        try {
            Path real = Files.exists(absolute) ? absolute.toRealPath() : absolute;
            Path root = Files.exists(repositoryRoot) ? repositoryRoot.toRealPath() : repositoryRoot;
            return real.startsWith(root) && !real.equals(root);
        } catch (IOException e) {
            return false;
        }
    }

    private void requireAllowed(String url, String why) {
        for (Pattern p : allowed) {
            if (p.matcher(url).matches()) {
                return;
            }
        }
        throw refused(url, why);
    }

    private static ServingException.Unauthorized refused(String url, String why) {
        return new ServingException.Unauthorized("registering from '" + url + "' is not allowed: " + why
                + "; the operator can allow it with --allowed-urls (regular expressions matched against the whole url)",
                true);
    }

    private ModelSource unpack(Path archive, String url) {
        try {
            return archives.unpack(archive);
        } catch (ArchiveException e) {
            throw new ServingException.InvalidInput("url '" + url + "': " + e.getMessage());
        }
    }

    private ModelSource fetch(String url) {
        Path download = archives.newDownload();
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10)).GET().build();
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new ServingException.InvalidInput("fetching '" + url + "' answered HTTP " + response.statusCode()
                            + "; expected 200 with a " + ModelArchive.EXTENSION + " archive (redirects are not followed)");
                }
                copyLimited(body, download, url);
            }
            return unpack(download, url);
        } catch (IOException e) {
            throw new ServingException.InvalidInput("fetching '" + url + "' failed: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ServingException.InvalidInput("url '" + url + "' is not a valid URL: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServingException.InvalidInput("fetching '" + url + "' was interrupted");
        } finally {
            try {
                Files.deleteIfExists(download);
            } catch (IOException ignored) {
                // in the store's work directory, deleted on close anyway
            }
        }
    }

    private static void copyLimited(InputStream in, Path file, String url) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > MAX_DOWNLOAD_BYTES) {
                    throw new ServingException.InvalidInput("fetching '" + url + "': larger than "
                            + MAX_DOWNLOAD_BYTES + " bytes");
                }
                out.write(buffer, 0, n);
            }
        }
    }
}
