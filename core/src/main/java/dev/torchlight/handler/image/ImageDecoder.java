package dev.torchlight.handler.image;

import dev.torchlight.api.ServingException;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes JPEG and PNG bytes into 8-bit RGB the way PIL's {@code Image.open(...).convert("RGB")}
 * does, with the JDK's Image I/O (chosen by measurement, see docs/HANDLERS.md).
 *
 * <p>Safe with hostile input: the format is recognized from the leading bytes (whatever the
 * client declared), the dimensions are read from the header and checked against a pixel limit
 * before any pixel is decoded (decompression bombs), and truncated or corrupt files are refused
 * rather than decoded into grey. Pixels are taken from the decoded raster without colour
 * management, as PIL does: an embedded ICC profile is ignored, alpha is dropped, grey is
 * repeated into R, G and B, and CMYK becomes RGB with PIL's formula.
 */
final class ImageDecoder {
    private final long maxPixels;

    /** @param maxPixels larger images (width × height) are refused before decoding */
    ImageDecoder(long maxPixels) {
        this.maxPixels = maxPixels;
    }

    /** The image formats this decoder reads, by their leading bytes. */
    enum Format {
        JPEG("jpeg"),
        PNG("png");

        final String imageIoName;

        Format(String imageIoName) {
            this.imageIoName = imageIoName;
        }

        static Format sniff(byte[] b) {
            if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
                return JPEG;
            }
            if (b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'
                    && b[4] == '\r' && b[5] == '\n' && b[6] == 0x1A && b[7] == '\n') {
                return PNG;
            }
            return null;
        }
    }

    /**
     * @throws ServingException.InvalidInput for anything but a whole, decodable JPEG or PNG within
     *     the pixel limit, saying which
     */
    RgbImage decode(byte[] data) {
        Format format = Format.sniff(data);
        if (format == null) {
            throw new ServingException.InvalidInput("the data is not a JPEG or PNG image (" + data.length + " bytes"
                    + describeStart(data) + "); send the image file's bytes as they are");
        }
        ImageReader reader = ImageIO.getImageReadersByFormatName(format.imageIoName).next();
        List<String> warnings = new ArrayList<>(2);
        reader.addIIOReadWarningListener((source, message) -> warnings.add(message));
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            if (width < 1 || height < 1) {
                throw invalid(format, "has no pixels (" + width + "x" + height + ")");
            }
            if ((long) width * height > maxPixels) {
                throw invalid(format, "is " + width + "x" + height + " = " + (long) width * height
                        + " pixels, more than the limit of " + maxPixels + " (image.max_pixels); send a smaller image");
            }
            RgbImage image = read(reader, format);
            for (String warning : warnings) {
                String w = warning.toLowerCase(Locale.ROOT);
                if (w.contains("truncated") || w.contains("premature end")) {
                    throw invalid(format, "is truncated (" + warning + ")");
                }
            }
            return image;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ServingException s) {
                throw s;
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw invalid(format, "cannot be decoded: " + why);
        } finally {
            reader.dispose();
        }
    }

    private static RgbImage read(ImageReader reader, Format format) throws IOException {
        Iterator<?> types = reader.getImageTypes(0);
        if (!types.hasNext()) {
            // No colour model the JDK can build (CMYK JPEG before JDK 24): the raw components will do.
            return fromRaster(reader.readRaster(0, null), format);
        }
        // With an embedded ICC profile the JDK's first (default) type is sRGB, filled by converting
        // colours through the profile; PIL does not convert, and neither does reading into the
        // profile's own colour space, which the JDK offers as another type with the same bands.
        ImageReadParam param = reader.getDefaultReadParam();
        ImageTypeSpecifier first = (ImageTypeSpecifier) types.next();
        while (first.getColorModel().getColorSpace().isCS_sRGB() && types.hasNext()) {
            ImageTypeSpecifier type = (ImageTypeSpecifier) types.next();
            if (type.getNumBands() == first.getNumBands() && !type.getColorModel().getColorSpace().isCS_sRGB()) {
                param.setDestinationType(type);
                break;
            }
        }
        BufferedImage image = reader.read(0, param);
        Raster raster = image.getRaster();
        if (raster.getDataBuffer() instanceof DataBufferByte && raster.getSampleModel() instanceof ComponentSampleModel
                && !(image.getColorModel() instanceof java.awt.image.IndexColorModel)) {
            return fromRaster(raster, format);
        }
        return fromArgb(image); // palette, 1/2/4-bit and 16-bit images: let Java 2D expand them
    }

    /** 8-bit components: 1 = grey, 2 = grey + alpha, 3 = RGB, 4 = RGBA (PNG) or CMYK (JPEG). */
    private static RgbImage fromRaster(Raster raster, Format format) {
        if (!(raster.getDataBuffer() instanceof DataBufferByte buffer)
                || !(raster.getSampleModel() instanceof ComponentSampleModel model)) {
            throw invalid(format, "has a pixel layout this server does not read");
        }
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        byte[] src = buffer.getData();
        int[] offsets = model.getBandOffsets();
        int[] banks = model.getBankIndices();
        for (int bank : banks) {
            if (bank != 0) {
                throw invalid(format, "has a pixel layout this server does not read");
            }
        }
        int pixelStride = model.getPixelStride();
        int scanStride = model.getScanlineStride();
        int base = buffer.getOffset() + (raster.getMinX() - raster.getSampleModelTranslateX()) * pixelStride
                + (raster.getMinY() - raster.getSampleModelTranslateY()) * scanStride;
        byte[] rgb = new byte[w * h * 3];
        boolean cmyk = bands == 4 && format == Format.JPEG;
        int o = 0;
        for (int y = 0; y < h; y++) {
            int row = base + y * scanStride;
            for (int x = 0; x < w; x++) {
                int p = row + x * pixelStride;
                if (bands < 3) {
                    byte g = src[p + offsets[0]];
                    rgb[o] = g;
                    rgb[o + 1] = g;
                    rgb[o + 2] = g;
                } else if (cmyk) {
                    // PIL's cmyk2rgb: each channel is (255 - K) - C * (255 - K) / 255, rounded.
                    int nk = 255 - (src[p + offsets[3]] & 0xFF);
                    rgb[o] = (byte) (nk - mulDiv255(src[p + offsets[0]] & 0xFF, nk));
                    rgb[o + 1] = (byte) (nk - mulDiv255(src[p + offsets[1]] & 0xFF, nk));
                    rgb[o + 2] = (byte) (nk - mulDiv255(src[p + offsets[2]] & 0xFF, nk));
                } else {
                    rgb[o] = src[p + offsets[0]];
                    rgb[o + 1] = src[p + offsets[1]];
                    rgb[o + 2] = src[p + offsets[2]];
                }
                o += 3;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** a * b / 255 rounded, exactly as PIL's MULDIV255. */
    static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static RgbImage fromArgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0, o = 0; i < argb.length; i++, o += 3) {
            int p = argb[i];
            rgb[o] = (byte) (p >> 16);
            rgb[o + 1] = (byte) (p >> 8);
            rgb[o + 2] = (byte) p;
        }
        return new RgbImage(w, h, rgb);
    }

    private static ServingException.InvalidInput invalid(Format format, String what) {
        return new ServingException.InvalidInput("the " + format + " image " + what);
    }

    private static String describeStart(byte[] data) {
        if (data.length == 0) {
            return ", empty";
        }
        StringBuilder sb = new StringBuilder(", starting ");
        for (int i = 0; i < Math.min(4, data.length); i++) {
            sb.append(String.format(Locale.ROOT, "%02x", data[i] & 0xFF));
        }
        return sb.toString();
    }
}
