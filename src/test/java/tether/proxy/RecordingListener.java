package tether.proxy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import tether.upstream.Backend;

/**
 * A {@link ProxyListener} for tests: every exchange record (the access log's line) and every failure counted
 * against a server ({@code "server:reason"}), in order, readable from the test's thread.
 */
final class RecordingListener implements ProxyListener {

  final List<ExchangeRecord> records = new CopyOnWriteArrayList<>();
  final List<String> blamed = new CopyOnWriteArrayList<>();

  @Override
  public void exchangeEnded(ExchangeRecord r) {
    records.add(r);
  }

  @Override
  public void backendFailed(Backend backend, String reason) {
    blamed.add(backend.name() + ":" + reason);
  }
}
