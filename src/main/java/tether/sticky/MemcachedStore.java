package tether.sticky;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.spy.memcached.CachedData;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.DefaultHashAlgorithm;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.internal.GetFuture;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.ArrayOperationQueueFactory;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.ops.StatusCode;
import net.spy.memcached.transcoders.Transcoder;

/**
 * {@link SessionStore} on memcached through spymemcached: operations go to the client's own I/O thread through
 * bounded queues that never wait (full: {@link SessionStore.Dropped}); results come back on one listener thread.
 * A server that goes away fails its operations at once (no queueing for a dead server) and is reconnected within
 * {@value #MAX_RECONNECT_SECONDS} s. Keys are spread over the servers by a ketama ring: every instance with the
 * same list agrees on where a key lives. The client is built on a thread of its own: resolving the host names
 * never runs on an event loop, and a name that does not resolve yet is tried again.
 */
final class MemcachedStore implements SessionStore {

  static final int MAX_RECONNECT_SECONDS = 2;
  private static final int QUEUE = 4096;
  private static final long OP_TIMEOUT_MILLIS = 1000;

  static {
    // spymemcached logs to stderr unless told otherwise (its own switch, read when its first class loads)
    if (System.getProperty("net.spy.log.LoggerImpl") == null) {
      System.setProperty("net.spy.log.LoggerImpl", "net.spy.memcached.compat.log.SLF4JLogger");
    }
  }

  private final List<String> addresses;
  private final StoreHealth health;
  private final ExecutorService listeners;
  private volatile MemcachedClient client;
  private volatile boolean closed;

  MemcachedStore(List<String> addresses) {
    this.addresses = List.copyOf(addresses);
    this.health = new StoreHealth("memcached " + addresses, addresses.size());
    this.listeners = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> daemon(r, "tether-memcached-results"));
    daemon(this::connect, "tether-memcached-start").start();
  }

  private void connect() {
    long retryMillis = 1000;
    while (!closed && client == null) {
      try {
        List<InetSocketAddress> resolved = new ArrayList<>();
        for (String a : addresses) {
          int colon = a.lastIndexOf(':');
          String host = a.substring(0, colon).replace("[", "").replace("]", "");
          InetSocketAddress address = new InetSocketAddress(host, Integer.parseInt(a.substring(colon + 1)));
          if (address.isUnresolved()) {
            throw new IllegalStateException("cannot resolve " + host);
          }
          resolved.add(address);
        }
        client = new MemcachedClient(factory(), resolved);
        if (closed) {
          client.shutdown(0, TimeUnit.SECONDS);
          return;
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!health.up() && System.nanoTime() < until) {
          Thread.sleep(20);
        }
        if (!health.up()) {
          health.update("not reachable (" + health.cause() + ")");
        }
        health.announce();
      } catch (Exception e) {
        health.update("cannot start the client: " + e.getMessage());
        health.announce();
        try {
          Thread.sleep(retryMillis);
        } catch (InterruptedException ie) {
          return;
        }
        retryMillis = Math.min(retryMillis * 2, 10_000);
      }
    }
  }

  private net.spy.memcached.ConnectionFactory factory() {
    return new ConnectionFactoryBuilder()
        .setDaemon(true)
        .setFailureMode(FailureMode.Cancel) // a dead server's operations fail at once: the request never waits
        .setOpTimeout(OP_TIMEOUT_MILLIS)
        .setOpQueueMaxBlockTime(0) // a full queue drops, never blocks the caller (an event loop)
        .setOpQueueFactory(new ArrayOperationQueueFactory(QUEUE))
        .setReadOpQueueFactory(new ArrayOperationQueueFactory(QUEUE))
        .setWriteOpQueueFactory(new ArrayOperationQueueFactory(QUEUE))
        .setLocatorType(ConnectionFactoryBuilder.Locator.CONSISTENT)
        .setHashAlg(DefaultHashAlgorithm.KETAMA_HASH)
        .setMaxReconnectDelay(MAX_RECONNECT_SECONDS)
        .setListenerExecutorService(listeners)
        .setInitialObservers(List.of(new ConnectionObserver() {
          @Override
          public void connectionEstablished(SocketAddress sa, int reconnectCount) {
            health.connected(name(sa));
          }

          @Override
          public void connectionLost(SocketAddress sa) {
            health.lost(name(sa));
          }
        }))
        .build();
  }

  @Override
  public CompletionStage<String> get(String key) {
    MemcachedClient c = client;
    CompletableFuture<String> result = new CompletableFuture<>();
    if (c == null) {
      result.completeExceptionally(new IllegalStateException("not connected"));
      return result;
    }
    GetFuture<String> f;
    try {
      f = c.asyncGet(key, UTF8);
    } catch (IllegalStateException full) {
      result.completeExceptionally(new Dropped());
      return result;
    }
    f.addListener(done -> {
      if (result.isDone()) {
        return; // given up on (no answer in time)
      }
      try {
        if (done.isCancelled()) {
          throw new IllegalStateException("cancelled: " + health.cause());
        }
        String value = (String) done.get();
        health.succeeded();
        result.complete(value);
      } catch (Exception e) {
        health.failed("get: " + e.getMessage());
        result.completeExceptionally(e);
      }
    });
    return answerInTime(result, f);
  }

  /**
   * A hung server (connected, answering nothing) never completes an operation by itself: after
   * {@value #OP_TIMEOUT_MILLIS} ms it is given up on and counts as a failure, so the store goes down.
   */
  private <T> CompletableFuture<T> answerInTime(CompletableFuture<T> result, java.util.concurrent.Future<?> op) {
    result.orTimeout(OP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).whenComplete((v, err) -> {
      if (err instanceof java.util.concurrent.TimeoutException) {
        health.failed("no answer within " + OP_TIMEOUT_MILLIS + " ms");
        op.cancel(false);
      }
    });
    return result;
  }

  @Override
  public CompletionStage<Boolean> put(String key, String value, int ttlSeconds, boolean onlyIfAbsent) {
    return write(c -> onlyIfAbsent ? c.add(key, ttlSeconds, value, UTF8) : c.set(key, ttlSeconds, value, UTF8),
        StatusCode.ERR_NOT_STORED);
  }

  @Override
  public CompletionStage<Boolean> touch(String key, int ttlSeconds) {
    return write(c -> c.touch(key, ttlSeconds), StatusCode.ERR_NOT_FOUND);
  }

  /** A write: true when done, false when the server answered {@code refused} (not an error), else failed. */
  private CompletionStage<Boolean> write(Function<MemcachedClient, OperationFuture<Boolean>> op, StatusCode refused) {
    MemcachedClient c = client;
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    if (c == null) {
      result.completeExceptionally(new IllegalStateException("not connected"));
      return result;
    }
    try {
      OperationFuture<Boolean> f = op.apply(c);
      f.addListener(done -> {
        if (result.isDone()) {
          return; // given up on (no answer in time)
        }
        OperationStatus status = done.isCancelled() ? null : done.getStatus();
        if (status != null && (status.isSuccess() || status.getStatusCode() == refused)) {
          health.succeeded();
          result.complete(status.isSuccess());
        } else {
          String why = status == null ? "cancelled: " + health.cause() : status.getMessage();
          health.failed("write: " + why);
          result.completeExceptionally(new IllegalStateException(why));
        }
      });
      return answerInTime(result, f);
    } catch (IllegalStateException full) {
      result.completeExceptionally(new Dropped());
    }
    return result;
  }

  @Override
  public boolean up() {
    return health.up();
  }

  @Override
  public void close() {
    closed = true;
    MemcachedClient c = client;
    if (c != null) {
      c.shutdown(0, TimeUnit.SECONDS);
    }
    listeners.shutdown();
  }

  private static String name(SocketAddress sa) {
    return sa instanceof InetSocketAddress i ? i.getHostString() + ":" + i.getPort() : String.valueOf(sa);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Values are server names, stored as plain UTF-8 (flags 0), readable by any client. */
  private static final Transcoder<String> UTF8 = new Transcoder<>() {
    @Override
    public boolean asyncDecode(CachedData d) {
      return false;
    }

    @Override
    public CachedData encode(String s) {
      return new CachedData(0, s.getBytes(StandardCharsets.UTF_8), getMaxSize());
    }

    @Override
    public String decode(CachedData d) {
      return new String(d.getData(), StandardCharsets.UTF_8);
    }

    @Override
    public int getMaxSize() {
      return CachedData.MAX_SIZE;
    }
  };
}
