package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer;
import dev.torchlight.api.DataType;

/**
 * Jackson's UTF-8 parser over a byte array, with one addition: at the start of a flat array of
 * numbers it can decode the whole array in one pass over the bytes ({@link FlatNumberArray}) and
 * continue after it, as if it had read every element token by token. For a tensor of a few hundred
 * floats that is most of what a v2 request costs the server to parse.
 *
 * <p>Skipping the array means setting the parser's own position, line and context past it: the
 * protected state that {@code UTF8StreamJsonParser} keeps for subclasses. {@code TensorJsonParserTest}
 * checks, token by token and location by location, that the parser goes on exactly as Jackson's own
 * would, so that a change in Jackson shows up there.
 */
final class TensorJsonParser extends UTF8StreamJsonParser {
    TensorJsonParser(IOContext context, int features, ObjectCodec codec, ByteQuadsCanonicalizer symbols,
            byte[] data, int start, int end, int bytesPreProcessed) {
        super(context, features, null, codec, symbols, data, start, end, bytesPreProcessed, false);
    }

    /**
     * On the {@code START_ARRAY} of a flat array of numbers: decodes its elements into {@code out}
     * (the first {@code storeLimit} stored, the rest counted) and leaves the parser on the array's
     * {@code END_ARRAY}.
     *
     * @return the number of elements, or -1 when the array is anything else (nested, holding other
     *     values, malformed): then neither the parser nor {@code out} has changed
     */
    long readFlatNumbers(DataType type, ElementBuffer out, long storeLimit) {
        if (_currToken != JsonToken.START_ARRAY || _nextToken != null || !_parsingContext.inArray()) {
            return -1;
        }
        int mark = out.position();
        FlatNumberArray array = new FlatNumberArray(_inputBuffer, _inputPtr, _inputEnd);
        if (!array.read(type, out, storeLimit)) {
            out.reset(mark);
            return -1;
        }
        if (array.newlines() > 0) {
            _currInputRow += array.newlines();
            _currInputRowStart = array.lineStart();
        }
        // Where Jackson would be after reading the closing bracket as a token of its own.
        _inputPtr = array.position();
        _tokenInputRow = _currInputRow;
        _tokenInputTotal = _currInputProcessed + _inputPtr;
        _tokenInputCol = _inputPtr - _currInputRowStart;
        _parsingContext = _parsingContext.clearAndGetParent();
        _numTypesValid = NR_UNKNOWN;
        _currToken = JsonToken.END_ARRAY;
        return array.count();
    }
}
