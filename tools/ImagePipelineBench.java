import dev.torchlight.config.ImageOptions;
import dev.torchlight.handler.image.ImageTransform;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Times JPEG decoding (whichever Image I/O JPEG reader is registered first) and torchlight's whole
 * image pipeline (decode, resize 256, crop 224, normalize) on one thread, per image file:
 *
 *   java -cp core/target/classes[:other reader jars] tools/ImagePipelineBench.java DIR [SECONDS]
 *
 * Put TwelveMonkeys' imageio-jpeg (and its imageio-core, imageio-metadata, common-*) jars on the
 * class path to time its reader instead of the JDK's. Numbers are for docs/HANDLERS.md.
 */
public class ImagePipelineBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".jpg")).sorted().toList();
        }
        ImageReader probe = ImageIO.getImageReadersByFormatName("jpeg").next();
        System.out.println("JPEG reader: " + probe.getClass().getName());
        ImageTransform transform = new ImageTransform(ImageOptions.imagenet());
        System.out.printf("%-24s %11s %12s %14s%n", "image", "size", "decode ms", "pipeline ms");
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            ImageReader r = ImageIO.getImageReadersByFormatName("jpeg").next();
            r.setInput(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
            String size = r.getWidth(0) + "x" + r.getHeight(0);
            r.dispose();
            double decode = time(seconds, () -> {
                ImageReader reader = ImageIO.getImageReadersByFormatName("jpeg").next();
                reader.setInput(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
                reader.read(0);
                reader.dispose();
            });
            double pipeline = time(seconds, () -> transform.apply("image", bytes));
            System.out.printf("%-24s %11s %12.2f %14.2f%n", f.getFileName(), size, decode, pipeline);
        }
    }

    interface Task {
        void run() throws Exception;
    }

    /** Milliseconds per run after a warm-up of the same length. */
    static double time(double seconds, Task task) throws Exception {
        for (long end = System.nanoTime() + (long) (seconds * 1e9); System.nanoTime() < end;) {
            task.run();
        }
        int n = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            task.run();
            n++;
        }
        return (System.nanoTime() - start) / 1e6 / n;
    }
}
