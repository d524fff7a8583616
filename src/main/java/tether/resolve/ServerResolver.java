package tether.resolve;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.resolver.NameResolver;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.proxy.ProxyListener;
import tether.proxy.ProxySnapshot;
import tether.upstream.Backend;
import tether.upstream.ResolvedAddress;
import tether.upstream.Upstream;

/**
 * Keeps every server configured by host name dialled at the address the name has now, as nginx's
 * {@code server ... resolve} with {@code resolver valid=}, HAProxy's {@code resolvers} with {@code hold valid} and
 * Envoy's STRICT_DNS clusters do: each distinct name of the live snapshot is looked up again every {@code resolve}
 * (top-level config, default 5s), and at once after a connect failure to one of its servers (at most once a second
 * per name, so a dead server does not hammer DNS). A new snapshot's names are looked up before it is published
 * ({@link #resolveNew}, at most {@value #WARM_UP_LIMIT_MILLIS} ms). IP literals are never looked up.
 *
 * <p>Lookups go through Vert.x's own resolver ({@code /etc/hosts}, then DNS) set up by {@link #vertxOptions()} to
 * cache nothing: the hosts file is read again on each lookup and a DNS answer is not kept past its use, so a record's
 * TTL is capped by the interval (Docker's embedded DNS answers with TTL 600s). The hosts file is read on a worker
 * thread and DNS queries are asynchronous: no event loop blocks. Answers land in each server's
 * {@link ResolvedAddress}; all bookkeeping happens on one context of this class's own, so it takes no lock.
 *
 * <p>A name that does not resolve leaves its servers without an address: a request fails them as a connect failure
 * (next server, else 502). Changes are logged once each: a new address, a failure, a recovery. A server whose
 * address changed is a new endpoint (as for Envoy): a passive ejection earned at the old address is lifted.
 */
public final class ServerResolver implements ProxyListener {

  private static final Logger LOG = LoggerFactory.getLogger(ServerResolver.class);
  private static final long RETRY_SPACING_NANOS = TimeUnit.SECONDS.toNanos(1);
  static final long WARM_UP_LIMIT_MILLIS = 3000;

  /** Bookkeeping of one name; touched on {@link #context} only. */
  private static final class Lookup {
    Future<Void> running;
    long lastStartNanos = System.nanoTime() - RETRY_SPACING_NANOS;
    boolean retryQueued;
  }

  private final Vertx vertx;
  private final ContextInternal context;
  private final NameResolver names;
  private final Supplier<ProxySnapshot> live;
  private final Map<ResolvedAddress, Lookup> lookups = new HashMap<>();
  private volatile boolean stopped;
  private volatile long timer = -1;

  /** @param live the snapshot being served (null before the first one): whose names are kept fresh */
  public ServerResolver(Vertx vertx, Supplier<ProxySnapshot> live) {
    this.vertx = vertx;
    this.live = live;
    this.context = ((VertxInternal) vertx).createEventLoopContext();
    this.names = ((VertxInternal) vertx).nameResolver();
  }

  /** Vert.x's resolver as this class needs it: no answer cached, /etc/hosts read again on each lookup. */
  public static AddressResolverOptions vertxOptions() {
    return new AddressResolverOptions()
        .setCacheMaxTimeToLive(0)       // 0: DNS answers are not cached; our interval is their lifetime
        .setCacheNegativeTimeToLive(0)
        .setHostsRefreshPeriod(1);      // in nanoseconds (0 would mean never): re-read on every lookup
  }

  /** Starts the periodic lookups. */
  public void start() {
    context.runOnContext(v -> schedule());
  }

  public void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  /**
   * Looks up the names of {@code next} that were never looked up (new servers, first start); completes when they
   * have an answer, or after {@value #WARM_UP_LIMIT_MILLIS} ms (the late ones count as unreachable until answered).
   * Never fails.
   */
  public Future<Void> resolveNew(ProxySnapshot next) {
    List<ResolvedAddress> fresh = namesOf(next).stream().filter(ResolvedAddress::pending).toList();
    if (fresh.isEmpty()) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      long limit = vertx.setTimer(WARM_UP_LIMIT_MILLIS, t -> done.tryComplete());
      Future.join(fresh.stream().map(this::lookUp).toList()).onComplete(ar -> {
        vertx.cancelTimer(limit);
        done.tryComplete();
      });
    });
    return done.future();
  }

  /** A connect failure may mean the name moved: look it up again now (or as soon as the spacing allows). */
  @Override
  public void backendFailed(Backend backend, String reason) {
    if ("connect_failed".equals(reason) && !backend.resolved().literal() && !stopped) {
      context.runOnContext(v -> lookUpSoon(backend.resolved()));
    }
  }

  private void schedule() {
    if (stopped) {
      return;
    }
    ProxySnapshot s = live.get();
    long every = s == null ? 1000 : s.config().resolve().toMillis();
    timer = vertx.setTimer(every, t -> {
      refreshAll();
      schedule();
    });
  }

  private void refreshAll() {
    ProxySnapshot s = live.get();
    if (s == null || stopped) {
      return;
    }
    Set<ResolvedAddress> current = namesOf(s);
    lookups.keySet().retainAll(current); // names gone with a reload
    current.forEach(this::lookUp);
  }

  private void lookUpSoon(ResolvedAddress address) {
    Lookup l = lookups.computeIfAbsent(address, a -> new Lookup());
    if (stopped || l.running != null || l.retryQueued) {
      return;
    }
    long waitNanos = l.lastStartNanos + RETRY_SPACING_NANOS - System.nanoTime();
    if (waitNanos <= 0) {
      lookUp(address);
      return;
    }
    l.retryQueued = true;
    vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)), t -> {
      l.retryQueued = false;
      lookUp(address);
    });
  }

  /** One lookup of a name, or the one already running; on {@link #context}. */
  private Future<Void> lookUp(ResolvedAddress address) {
    Lookup l = lookups.computeIfAbsent(address, a -> new Lookup());
    if (l.running != null) {
      return l.running;
    }
    l.lastStartNanos = System.nanoTime();
    String host = address.host();
    // on a worker: the resolver reads /etc/hosts synchronously in the calling thread, then queries DNS async
    Future<Void> lookup = context.executeBlocking(() -> names.resolveAll(context.nettyEventLoop(), host), false)
        .compose(pending -> {
          PromiseInternal<List<InetSocketAddress>> answer = context.promise();
          pending.addListener(answer);
          return answer.future();
        })
        .transform(ar -> {
          l.running = null;
          if (!stopped) {
            record(address, ar);
          }
          return context.succeededFuture();
        });
    l.running = lookup;
    return lookup;
  }

  private void record(ResolvedAddress address, AsyncResult<List<InetSocketAddress>> ar) {
    if (ar.succeeded() && !ar.result().isEmpty()) {
      String before = address.shown();
      List<String> ips = ar.result().stream().map(a -> a.getAddress().getHostAddress()).distinct().toList();
      if (address.resolvedTo(ips)) {
        LOG.info("{} resolves to {}{}", address.configured(), address.shown(), before == null ? ""
            : " (was " + before + ")");
        readmit(address);
      }
      return;
    }
    String why = ar.failed() ? String.valueOf(ar.cause().getMessage()).trim() : "no address in the answer";
    if (address.failed(why)) {
      LOG.warn("{} does not resolve ({}): its servers count as unreachable until it does", address.configured(),
          why);
    }
  }

  /** Lifts a passive ejection earned at the old address (or while there was none). */
  private void readmit(ResolvedAddress address) {
    ProxySnapshot s = live.get();
    if (s == null) {
      return;
    }
    long now = System.nanoTime();
    for (Upstream u : s.upstreams().values()) {
      for (Backend b : u.backends()) {
        if (b.resolved() == address && b.state().ejected(now)) {
          b.readmit("address changed to " + address.shown());
        }
      }
    }
  }

  /** The distinct host names (not IP literals) the servers of {@code snapshot} are configured with. */
  static Set<ResolvedAddress> namesOf(ProxySnapshot snapshot) {
    Set<ResolvedAddress> names = new LinkedHashSet<>();
    for (Upstream u : snapshot.upstreams().values()) {
      for (Backend b : u.backends()) {
        if (!b.resolved().literal()) {
          names.add(b.resolved());
        }
      }
    }
    return names;
  }
}
