package dev.torchlight.server.inference;

import dev.torchlight.registry.ServedVersion;

/**
 * A protocol's reading of one inference request, made once the request's model version is known
 * (a TorchServe body means items for a model with a handler, a tensor otherwise).
 *
 * @param <R> the protocol's reply
 */
@FunctionalInterface
public interface Decoder<R> {
    /**
     * @param target the version the request resolved to
     * @throws dev.torchlight.api.ServingException.InvalidInput naming what is wrong with the request
     */
    Work<R> decode(ServedVersion target);
}
