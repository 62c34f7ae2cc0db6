/**
 * torchlight in-process: a Java application opens a model repository ({@link dev.torchlight.embedded.Torchlight})
 * and runs its models through {@link dev.torchlight.embedded.Model} handles, with the server's dynamic batching,
 * instances, warm-up, versions and reloads, and without a network listener. Only the core and the libtorch engine
 * are on the class path: no Netty, gRPC, Jackson or Prometheus. The server is built on the same runtime and adds
 * its listeners, authentication and metrics on top. See docs/EMBEDDED.md.
 */
package dev.torchlight.embedded;
