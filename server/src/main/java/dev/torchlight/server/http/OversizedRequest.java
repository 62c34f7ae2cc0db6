package dev.torchlight.server.http;

import io.netty.handler.codec.http.HttpVersion;

/**
 * Stands in for a request whose body exceeds the limit. It travels down the pipeline like a
 * request so that its 413 is written in order after the responses to earlier pipelined requests.
 *
 * @param version the request's protocol version
 * @param limit the body limit in bytes
 */
record OversizedRequest(HttpVersion version, int limit) {}
