package dev.torchlight.server.inference;

import dev.torchlight.api.ServingException;
import java.util.Base64;
import java.util.regex.Pattern;

/** Decodes the base64 text in which JSON carries a binary item (an image file), as clients write it. */
public final class Base64Payload {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private Base64Payload() {}

    /**
     * Standard or URL-safe base64, padding optional, an optional {@code data:...;base64,} prefix,
     * whitespace ignored.
     *
     * @param where names the item in error messages
     * @throws ServingException.InvalidInput for empty or malformed text
     */
    public static byte[] decode(String text, String where) {
        String s = text.strip();
        if (s.startsWith("data:")) {
            int comma = s.indexOf(',');
            s = comma < 0 ? "" : s.substring(comma + 1);
        }
        s = WHITESPACE.matcher(s).replaceAll("");
        if (s.isEmpty()) {
            throw new ServingException.InvalidInput(where + ": the base64 string is empty; expected an encoded image");
        }
        try {
            return s.indexOf('-') >= 0 || s.indexOf('_') >= 0 ? Base64.getUrlDecoder().decode(s)
                    : Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new ServingException.InvalidInput(where + ": not valid base64: " + e.getMessage());
        }
    }
}
