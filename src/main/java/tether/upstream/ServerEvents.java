package tether.upstream;

import java.time.Duration;
import java.util.List;

/**
 * What happens to servers, announced by {@link Backend} after its {@link BackendState} changed: metrics, logs and
 * the ejection timer implement it (OkHttp's EventListener: observability kept apart from the logic).
 */
public interface ServerEvents {

  /** The server's status changed. */
  default void transition(Backend backend, BackendState.Transition transition) {}

  /** An active probe ended, {@code ok} or not, after {@code nanos}. */
  default void probed(Backend backend, boolean ok, long nanos) {}

  /** Passive health ejected the server for {@code duration}. */
  default void ejected(Backend backend, Duration duration) {}

  ServerEvents NONE = new ServerEvents() {};

  static ServerEvents all(List<ServerEvents> events) {
    ServerEvents[] es = events.toArray(ServerEvents[]::new);
    return new ServerEvents() {
      @Override
      public void transition(Backend backend, BackendState.Transition transition) {
        for (ServerEvents e : es) e.transition(backend, transition);
      }

      @Override
      public void probed(Backend backend, boolean ok, long nanos) {
        for (ServerEvents e : es) e.probed(backend, ok, nanos);
      }

      @Override
      public void ejected(Backend backend, Duration duration) {
        for (ServerEvents e : es) e.ejected(backend, duration);
      }
    };
  }
}
