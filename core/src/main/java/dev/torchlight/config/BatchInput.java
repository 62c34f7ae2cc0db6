package dev.torchlight.config;

import dev.torchlight.api.DataType;
import java.util.Objects;

/**
 * A model input that the server makes for each batch instead of a client sending it: where each
 * row's elements of a ragged input start and end once the batch's rows are concatenated (Triton's
 * {@code batch_input}). The model takes its batch inputs after its declared inputs, in the order they
 * are declared.
 *
 * @param name the input's name
 * @param kind what it holds
 * @param sourceInput the declared input whose elements are counted, usually a ragged one
 * @param dataType INT32 or INT64
 */
public record BatchInput(String name, Kind kind, String sourceInput, DataType dataType) {
    public BatchInput {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(sourceInput, "sourceInput");
        if (dataType != DataType.INT32 && dataType != DataType.INT64) {
            throw new IllegalArgumentException("batch input '" + name + "' must be INT32 or INT64, got " + dataType);
        }
    }

    /**
     * What a batch input holds for a batch of {@code n} rows, where row {@code i} has {@code c[i]}
     * elements of the source input (a request of {@code k} rows whose source input is {@code [k, m]}
     * contributes {@code k} rows of {@code m} elements).
     */
    public enum Kind {
        /** {@code [n]}: {@code c[0], c[1], ...}. */
        BATCH_ELEMENT_COUNT,
        /** {@code [n]}: where each row ends, {@code c[0], c[0]+c[1], ...}. */
        BATCH_ACCUMULATED_ELEMENT_COUNT,
        /**
         * {@code [n+1]}: where each row starts, then the total, {@code 0, c[0], c[0]+c[1], ...}:
         * the {@code offsets} of {@code nn.EmbeddingBag(..., include_last_offset=True)}.
         */
        BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO;

        /** Elements of the batch input for a batch of {@code rows} rows. */
        public int length(int rows) {
            return this == BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO ? rows + 1 : rows;
        }
    }
}
