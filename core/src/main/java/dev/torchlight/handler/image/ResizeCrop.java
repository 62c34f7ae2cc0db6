package dev.torchlight.handler.image;

/**
 * torchvision's {@code Resize(resize)} followed by {@code CenterCrop(crop)} on a PIL RGB image,
 * computed only for the pixels the crop keeps.
 *
 * <p>Reproduces Pillow's bilinear resampling ({@code ImagingResample}) step for step: a triangle
 * filter widened by the scale factor when shrinking (antialiasing), coefficients normalized and
 * turned into 22-bit fixed point, a horizontal pass rounded to 8 bits, then a vertical pass. With
 * the same decoded pixels the result is bit-identical to PIL's, which is what torchvision, and so
 * TorchServe's image classifier, use. Each output pixel depends only on its own coefficients, so
 * computing the cropped window alone gives the same values as resizing everything and cropping.
 */
final class ResizeCrop {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private ResizeCrop() {}

    /**
     * @param resize the shorter side's new length; the longer side becomes
     *     {@code floor(resize * long / short)} as in torchvision
     * @param crop side of the centre square kept, at most {@code resize}
     * @return the {@code crop × crop} RGB window
     */
    static RgbImage apply(RgbImage in, int resize, int crop) {
        int w = in.width();
        int h = in.height();
        int newW;
        int newH;
        if (w <= h) {
            newW = resize;
            newH = (int) ((double) resize * h / w);
        } else {
            newH = resize;
            newW = (int) ((double) resize * w / h);
        }
        // torchvision's CenterCrop rounds half to even (Python's round).
        int top = (int) Math.rint((newH - crop) / 2.0);
        int left = (int) Math.rint((newW - crop) / 2.0);
        Coefficients horizontal = Coefficients.bilinear(w, newW, left, crop);
        Coefficients vertical = Coefficients.bilinear(h, newH, top, crop);
        int firstRow = vertical.first();
        int rows = vertical.last() - firstRow;
        byte[] tmp = horizontalPass(in, horizontal, firstRow, rows, crop);
        return new RgbImage(crop, crop, verticalPass(tmp, vertical, firstRow, crop));
    }

    /** Rows {@code [firstRow, firstRow + rows)} of the source, resampled to {@code width} columns. */
    private static byte[] horizontalPass(RgbImage in, Coefficients c, int firstRow, int rows, int width) {
        byte[] src = in.rgb();
        int srcStride = in.width() * 3;
        byte[] out = new byte[rows * width * 3];
        int o = 0;
        for (int y = 0; y < rows; y++) {
            int rowStart = (firstRow + y) * srcStride;
            for (int x = 0; x < width; x++) {
                int min = c.min[x];
                int n = c.count[x];
                int k = x * c.size;
                int r = HALF;
                int g = HALF;
                int b = HALF;
                int p = rowStart + min * 3;
                for (int i = 0; i < n; i++, p += 3) {
                    int weight = c.weights[k + i];
                    r += (src[p] & 0xFF) * weight;
                    g += (src[p + 1] & 0xFF) * weight;
                    b += (src[p + 2] & 0xFF) * weight;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return out;
    }

    private static byte[] verticalPass(byte[] tmp, Coefficients c, int firstRow, int width) {
        int stride = width * 3;
        int height = c.min.length;
        byte[] out = new byte[height * stride];
        int[] acc = new int[stride];
        for (int y = 0; y < height; y++) {
            java.util.Arrays.fill(acc, HALF);
            int n = c.count[y];
            int k = y * c.size;
            int rowStart = (c.min[y] - firstRow) * stride;
            for (int i = 0; i < n; i++) {
                int weight = c.weights[k + i];
                int p = rowStart + i * stride;
                for (int x = 0; x < stride; x++) {
                    acc[x] += (tmp[p + x] & 0xFF) * weight;
                }
            }
            int o = y * stride;
            for (int x = 0; x < stride; x++) {
                out[o + x] = clip8(acc[x]);
            }
        }
        return out;
    }

    private static byte clip8(int v) {
        if (v >= (255 << PRECISION_BITS)) {
            return (byte) 255;
        }
        if (v <= 0) {
            return 0;
        }
        return (byte) (v >> PRECISION_BITS);
    }

    /**
     * Pillow's {@code precompute_coeffs} for the bilinear filter, for output positions
     * {@code [from, from + count)} of an axis resized from {@code inSize} to {@code outSize}.
     *
     * @param min first source index of each output position
     * @param count source pixels each output position reads
     * @param size stride of {@code weights} per output position
     * @param weights fixed-point weights
     */
    private record Coefficients(int[] min, int[] count, int size, int[] weights) {
        static Coefficients bilinear(int inSize, int outSize, int from, int n) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // the bilinear filter's support is 1
            int size = (int) Math.ceil(support) * 2 + 1;
            int[] min = new int[n];
            int[] count = new int[n];
            int[] weights = new int[n * size];
            double[] w = new double[size];
            for (int j = 0; j < n; j++) {
                double center = (from + j + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                double total = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double t = Math.abs((x + xmin - center + 0.5) * ss);
                    w[x] = t < 1.0 ? 1.0 - t : 0.0;
                    total += w[x];
                }
                for (int x = 0; x < xmax; x++) {
                    double v = total != 0.0 ? w[x] / total : w[x];
                    weights[j * size + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                            : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                min[j] = xmin;
                count[j] = xmax;
            }
            return new Coefficients(min, count, size, weights);
        }

        int first() {
            return min[0];
        }

        int last() {
            return min[min.length - 1] + count[count.length - 1];
        }
    }
}
