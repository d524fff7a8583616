package tether.proxy;

import io.vertx.core.http.HttpClient;

/** What an exchange needs from its event loop: that loop's own client pool, the snapshot and the listeners. */
interface ProxyContext {

  HttpClient client();

  io.vertx.core.Vertx vertx();

  ProxySnapshot snapshot();

  ProxyListener listener();

  long connectTimeoutMillis();

  long responseTimeoutMillis();
}
