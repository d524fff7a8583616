package tether.sticky;

/**
 * What the metrics read about a sticky mode's shared store: whether it is up, and its errors by operation and kind
 * ({@link #ERROR}, {@link #TIMEOUT}: a request or response stopped waiting for it, {@link #DROPPED}: not sent, the
 * queue was full).
 * Every error leaves the request served from the local table.
 */
public interface StoreStatus {

  enum Op { READ, WRITE }

  String ERROR = "error";
  String TIMEOUT = "timeout";
  String DROPPED = "dropped";

  boolean up();

  long errors(Op op, String kind);
}
