package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.server.runtime.EngineFactory;
import dev.torchlight.server.runtime.TorchlightServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every listener (HTTP, management, gRPC) serves TLS from PEM files; the certificate is made at test time with the JDK's keytool. */
class TlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    static Path dir;

    static Path cert;
    static Path key;
    static KeyStore store;

    @BeforeAll
    static void selfSignedCertificate() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path p12 = dir.resolve("server.p12");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", p12.toString(),
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            store.load(in, PASSWORD);
        }
        Certificate certificate = store.getCertificate("server");
        cert = pem(dir.resolve("cert.pem"), "CERTIFICATE", certificate.getEncoded());
        key = pem(dir.resolve("key.pem"), "PRIVATE KEY", store.getKey("server", PASSWORD).getEncoded());
    }

    private static Path pem(Path file, String type, byte[] der) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
        return Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    }

    @Test
    void inferenceAndManagementServeTls() throws Exception {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, TestData.models(), List.of("mlp"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null, ManagementConfig.ephemeral(),
                new SecurityConfig(true, false, null, List.of(), cert, key), 0, dev.torchlight.config.HandlerConfig.defaults());
        try (ServerHarness harness = new ServerHarness(config)) {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("server", store.getCertificate("server"));
            trust.init(trusted);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, trust.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();

            assertThat(harness.base.getScheme()).isEqualTo("https");
            HttpResponse<String> ready = client.send(HttpRequest.newBuilder(harness.base.resolve("/v2/health/ready"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            HttpResponse<String> models = client.send(HttpRequest.newBuilder(harness.management.resolve("/models"))
                    .header("Authorization", "Bearer " + harness.server.keys().management()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(models.statusCode()).isEqualTo(200);
            assertThat(models.body()).contains("\"modelName\":\"mlp\"");

            // gRPC on the same certificate, over HTTP/2 with ALPN.
            io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder
                    .forAddress("127.0.0.1", harness.server.grpcAddress().getPort())
                    .sslContext(io.grpc.netty.GrpcSslContexts.forClient().trustManager(cert.toFile()).build())
                    .overrideAuthority("localhost").build();
            try {
                assertThat(inference.GRPCInferenceServiceGrpc.newBlockingStub(channel)
                        .serverLive(inference.ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            } finally {
                channel.shutdownNow();
            }

            // Plain HTTP to a TLS listener gets no HTTP answer.
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(java.net.URI.create(
                    "http://127.0.0.1:" + harness.server.httpAddress().getPort() + "/v2/health/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void aKeyThatIsNotPemIsAConfigErrorNamingTheFlags() throws IOException {
        Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
        ServerConfig config = new ServerConfig("127.0.0.1", 0, TestData.models(), List.of("mlp"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null, ManagementConfig.ephemeral(),
                new SecurityConfig(true, false, null, List.of(), cert, notPem), 0, dev.torchlight.config.HandlerConfig.defaults());
        assertThatThrownBy(() -> TorchlightServer.start(config, EngineFactory.create()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--tls-key").hasMessageContaining("PEM");
        SecurityConfig missing = new SecurityConfig(true, false, null, List.of(), dir.resolve("nope.pem"), key);
        assertThatThrownBy(() -> TorchlightServer.start(config.withSecurity(missing), EngineFactory.create()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--tls-cert").hasMessageContaining("nope.pem");
    }
}
