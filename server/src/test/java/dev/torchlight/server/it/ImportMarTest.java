package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.server.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code torchlight import-mar} on archives made by tools/make_mar_fixtures.py, then served for real. */
class ImportMarTest {
    @TempDir
    Path repository;

    record Run(int code, String out, String err) {}

    static Run importMar(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "import-mar";
        System.arraycopy(args, 0, all, 1, args.length);
        return new Run(cli.execute(all), out.toString(), err.toString());
    }

    static String mar(String name) {
        return TestData.root().resolve("testdata/mar").resolve(name).toString();
    }

    @Test
    void aTorchScriptImageClassifierBecomesAServedModel() throws Exception {
        Run run = importMar(mar("classifier.mar"), "--model-repository", repository.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("imported model 'tinyresnet' version 1.0 (20 classes)");
        Path model = repository.resolve("tinyresnet");
        assertThat(model.resolve("1/model.pt")).isRegularFile();
        assertThat(model.resolve("1/version.txt")).as("the archive's version, kept").hasContent("1.0");
        assertThat(model.resolve("index_to_name.json")).isRegularFile();
        // batchSize and maxBatchDelay (ms) from the archive's model-config.yaml.
        assertThat(Files.readString(model.resolve("config.yaml")))
                .contains("max_batch_size: 4\n").contains("max_queue_delay_us: 20000\n");
        try (Stream<Path> left = Files.list(repository)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("tinyresnet");
        }
        try (ServerHarness server = new ServerHarness(repository, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE)) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.base.resolve("/predictions/tinyresnet"))
                    .header("Content-Type", "image/jpeg")
                    .POST(HttpRequest.BodyPublishers.ofFile(TestData.root().resolve("testdata/images/rocket.jpg"))));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            ImageClassifierTest.top5 = TestData.read(TestData.root().resolve("testdata/handlers/golden/top5.json"));
            ImageClassifierTest.assertTop5(ServerHarness.json(r), "rocket.jpg");
        }
        Run again = importMar(mar("classifier.mar"), "--model-repository", repository.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("version 1.0 of model 'tinyresnet' is already in");
    }

    @Test
    void eagerModelsAreRefusedWithWhatToDo() {
        Run run = importMar(mar("eager.mar"), "--model-repository", repository.toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("eager-mode model (model.py").contains("torch.jit.script(model).save('model.pt')");
        assertThat(repository).isEmptyDirectory();
    }

    @Test
    void stateDictsAreRefused() {
        Run run = importMar(mar("state_dict.mar"), "--model-repository", repository.toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("weights.pth is not a TorchScript model");
        assertThat(repository).isEmptyDirectory();
    }

    @Test
    void pythonHandlersAreRefusedWithWhatToDo() {
        Run run = importMar(mar("python_handler.mar"), "--model-repository", repository.toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("Python handler 'my_handler.py'").contains("examples/custom-handler");
        assertThat(repository).isEmptyDirectory();
    }

    @Test
    void aMissingFileOrNonZipIsAClearError() throws Exception {
        Run missing = importMar(repository.resolve("nope.mar").toString(), "--model-repository", repository.toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("no such file");
        Path text = Files.writeString(repository.resolve("x.mar"), "not a zip");
        Run notZip = importMar(text.toString(), "--model-repository", repository.resolve("repo").toString());
        assertThat(notZip.code()).isEqualTo(1);
        assertThat(notZip.err()).contains("x.mar");
    }
}
