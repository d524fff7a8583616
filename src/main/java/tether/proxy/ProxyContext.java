package tether.proxy;

import io.vertx.core.http.HttpClientAgent;

/** What an exchange needs from its event loop: that loop's own client pool, the snapshot and the listeners. */
interface ProxyContext {

  HttpClientAgent client();

  /** This loop's pooled backend connections and their use. */
  BackendConnections connections();

  io.vertx.core.Vertx vertx();

  ProxySnapshot snapshot();

  ProxyListener listener();

  long connectTimeoutMillis();

  long responseTimeoutMillis();
}
