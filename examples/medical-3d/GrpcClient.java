import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.UnsafeByteOperations;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Sends CT volumes to torchlight over KServe v2 gRPC as raw_input_contents and checks the logits
 * (raw_output_contents) against the unsplit model's reference outputs. Runs as a single source file
 * on the server jar, which carries gRPC and the generated stubs:
 *
 * <pre>
 * java -cp server/target/torchlight.jar examples/medical-3d/GrpcClient.java [--target 127.0.0.1:7070]
 *     [--dir examples/medical-3d/work] [--tolerance 1e-4]
 * </pre>
 *
 * The channel accepts messages of up to 256 MiB: gRPC's default of 4 MiB is smaller than one
 * volume's logits (16 MiB at 128^3). Exits 1 if any relative error exceeds the tolerance.
 */
public final class GrpcClient {
    public static void main(String[] args) throws Exception {
        String target = "127.0.0.1:7070";
        Path dir = Path.of("examples/medical-3d/work");
        Double tolerance = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> target = args[++i];
                case "--dir" -> dir = Path.of(args[++i]);
                case "--tolerance" -> tolerance = Double.valueOf(args[++i]);
                default -> {
                    System.err.println("usage: GrpcClient [--target HOST:PORT] [--dir DIR] [--tolerance T]");
                    System.exit(2);
                }
            }
        }
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        double limit = tolerance != null ? tolerance : manifest.get("precision").asText().equals("fp16") ? 1e-2 : 1e-4;
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext()
                .maxInboundMessageSize(256 << 20).build();
        double worst = 0;
        try {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
            for (JsonNode check : manifest.get("checks")) {
                byte[] volume = Files.readAllBytes(dir.resolve(check.get("volume").asText()));
                ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
                        .setName(manifest.get("input").get("name").asText())
                        .setDatatype("FP32");
                manifest.get("input").get("shape").forEach(d -> input.addShape(d.asLong()));
                ModelInferRequest request = ModelInferRequest.newBuilder()
                        .setModelName(manifest.get("name").asText())
                        .addInputs(input)
                        .addRawInputContents(UnsafeByteOperations.unsafeWrap(volume))
                        .build();
                long t = System.nanoTime();
                ModelInferResponse reply = stub.withDeadlineAfter(10, TimeUnit.MINUTES).modelInfer(request);
                double seconds = (System.nanoTime() - t) / 1e9;
                ByteBuffer raw = reply.getRawOutputContents(0).asReadOnlyByteBuffer();
                FloatBuffer got = raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                FloatBuffer expected = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(check.get("reference").asText())))
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                if (got.remaining() != expected.remaining()) {
                    throw new IllegalStateException("the reply has " + got.remaining() + " values, expected "
                            + expected.remaining() + " (shape " + reply.getOutputs(0).getShapeList() + ")");
                }
                double diff2 = 0, ref2 = 0, maxAbs = 0;
                for (int i = 0; i < expected.remaining(); i++) {
                    double d = got.get(i) - expected.get(i);
                    diff2 += d * d;
                    ref2 += (double) expected.get(i) * expected.get(i);
                    maxAbs = Math.max(maxAbs, Math.abs(d));
                }
                double rel = Math.sqrt(diff2) / (ref2 == 0 ? 1 : Math.sqrt(ref2));
                worst = Math.max(worst, Double.isNaN(rel) ? Double.POSITIVE_INFINITY : rel);
                System.out.printf("%s: %.1f MiB in, %.1f MiB out over gRPC, %.2f s; rel %.2e, max |diff| %.2e%n",
                        check.get("volume").asText(), volume.length / 1048576.0, raw.remaining() / 1048576.0,
                        seconds, rel, maxAbs);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        boolean ok = worst <= limit;
        System.out.printf("%s: largest relative error %.2e (tolerance %s)%n", ok ? "ok" : "FAILED", worst, limit);
        System.exit(ok ? 0 : 1);
    }
}
