package dev.torchlight.bench.http;

/** Hears how a connection attempt ended; called once, on an event loop. */
public interface ConnectListener {

    /** The connection is open and idle. */
    void onConnected(HttpConnection connection);

    /** The connection could not be opened. */
    void onConnectFailed(Throwable cause);
}
