package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.ByteSourceJsonBootstrapper;
import java.io.IOException;

/**
 * A {@link JsonFactory} whose parsers over UTF-8 byte arrays are {@link TensorJsonParser}s, which
 * decode flat number arrays in one pass. Everything else (other sources, other encodings,
 * generators) is Jackson's own.
 */
final class TensorJsonFactory extends JsonFactory {
    private static final long serialVersionUID = 1L;

    TensorJsonFactory(JsonFactoryBuilder builder) {
        super(builder);
    }

    private TensorJsonFactory(TensorJsonFactory source, ObjectCodec codec) {
        super(source, codec);
    }

    @Override
    public JsonFactory copy() {
        return new TensorJsonFactory(this, null);
    }

    @Override
    protected JsonParser _createParser(byte[] data, int offset, int len, IOContext context) throws IOException {
        if (new ByteSourceJsonBootstrapper(context, data, offset, len).detectEncoding() != JsonEncoding.UTF8) {
            return super._createParser(data, offset, len, context);
        }
        _streamReadConstraints.validateDocumentLength(len);
        int bom = len >= 3 && data[offset] == (byte) 0xEF && data[offset + 1] == (byte) 0xBB
                && data[offset + 2] == (byte) 0xBF ? 3 : 0;
        return new TensorJsonParser(context, _parserFeatures, _objectCodec,
                _byteSymbolCanonicalizer.makeChild(_factoryFeatures), data, offset + bom, offset + len, bom);
    }
}
