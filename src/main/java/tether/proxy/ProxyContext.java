package tether.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import tether.upstream.Backend;

/** What an exchange needs from its event loop: that loop's own client pool, the snapshot and the listeners. */
interface ProxyContext {

  HttpClientAgent client();

  /** This loop's pooled backend connections and their use. */
  BackendConnections connections();

  /**
   * {@code client().request(options)} for {@code backend} (the caller counts the connection it gets as that
   * server's, {@link BackendConnections.Use#tag}); fails at once, nothing dialled, when {@code options} has no server
   * (the server's host name does not resolve).
   */
  Future<HttpClientRequest> request(Backend backend, RequestOptions options);

  io.vertx.core.Vertx vertx();

  /** This proxy's Vert.x context: the fast path runs its callbacks in it, as Vert.x runs its handlers. */
  io.vertx.core.internal.ContextInternal context();

  /** This proxy's Netty event loop, for per-request timers cheaper than Vert.x's. */
  io.netty.channel.EventLoop eventLoop();

  ProxySnapshot snapshot();

  /** This loop's backend connections for the {@link FastPath}. */
  FastPool fastPool();

  ProxyListener listener();

  long connectTimeoutMillis();

  long responseTimeoutMillis();
}
