package tether.e2e;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/**
 * One browser on demo-app/php: keeps its cookies (PHPSESSID, TETHER) and every reply it got, in order. Used by one
 * thread at a time; its replies are read once that thread is done.
 */
final class PhpUser {

  /** One reply as the user saw it: index.php's server, session counter and session id, and Tether's debug header. */
  record Reply(int status, String server, int count, String session, String debug, long startNanos, long endNanos,
               String error) {

    private static final Pattern BODY = Pattern.compile("server=(\\S+) count=(\\d+) session=(\\S+)\\s*");

    static Reply of(HttpResponse<String> r, String debug, long start, long end) {
      Matcher m = BODY.matcher(r.body());
      if (r.statusCode() == 200 && m.matches()) {
        return new Reply(200, m.group(1), Integer.parseInt(m.group(2)), m.group(3), debug, start, end, null);
      }
      return new Reply(r.statusCode(), null, -1, null, debug, start, end, r.body().strip());
    }

    boolean ok() {
      return status / 100 == 2 && server != null;
    }

    boolean repinned() {
      return debug.endsWith("sticky=repin");
    }

    long millis() {
      return (endNanos - startNanos) / 1_000_000;
    }
  }

  final CookieClient client;
  final List<Reply> replies = new ArrayList<>();

  PhpUser(TetherHarness tether) {
    this(new CookieClient(tether));
  }

  PhpUser(CookieClient client) {
    this.client = client;
  }

  /** GET / (index.php counts the session's requests); a failure to get any answer is a reply with status -1. */
  Reply get() {
    long start = System.nanoTime();
    Reply reply;
    try {
      HttpResponse<String> r = client.get("/");
      reply = Reply.of(r, client.debug(), start, System.nanoTime());
    } catch (RuntimeException e) {
      reply = new Reply(-1, null, -1, null, "", start, System.nanoTime(), e.toString());
    }
    replies.add(reply);
    return reply;
  }

  Reply last() {
    return replies.get(replies.size() - 1);
  }

  @Override
  public String toString() {
    return replies.isEmpty() ? "new user" : "session " + replies.get(0).session();
  }
}
