package tether.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The PHP + Memcached stack of docker-compose.yml, made of the real pieces on this machine: one memcached and
 * several Apache httpd + mod_php servers, each on a free loopback port, all serving the repository's demo-app/php
 * with {@code session.save_handler = memcached}.
 *
 * <pre>
 * &#64;RegisterExtension static final PhpStack php = PhpStack.of("web1", "web2", "web3");
 * </pre>
 * Started once per test class; before each test every server is running again (killed ones restarted, hung ones
 * resumed), each on the port it had, so a test may kill or hang servers freely. The tests are skipped, with a
 * message saying what to install, only when the apache2 binary is missing; any other missing piece is an error.
 */
public final class PhpStack implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

  /** The Debian packages these tests need (Debian 12: Apache 2.4, PHP 8.2). */
  public static final String PACKAGES = "apache2 libapache2-mod-php php-memcached memcached";

  private static final List<Path> APACHE2 = List.of(Path.of("/usr/sbin/apache2"), Path.of("/usr/sbin/httpd"));
  static final List<Path> MEMCACHED = List.of(Path.of("/usr/bin/memcached"), Path.of("/usr/sbin/memcached"),
      Path.of("/usr/local/bin/memcached"));
  private static final Path MODULES = Path.of("/usr/lib/apache2/modules");
  private static final Path MODS_AVAILABLE = Path.of("/etc/apache2/mods-available");
  /** The demo app, shared with docker-compose.yml (relative to the project directory, where Maven runs tests). */
  static final Path DEMO_APP = Path.of("demo-app").toAbsolutePath();

  private final List<String> names;
  /** KeepAliveTimeout in seconds of the servers that do not use {@link Apache#KEEPALIVE_TIMEOUT_SECONDS}. */
  private final Map<String, Integer> keepAliveSeconds;
  private final Map<String, Apache> servers = new LinkedHashMap<>();
  private Path dir;
  private Memcached memcached;
  private Thread shutdownHook;
  private String skipReason;

  private PhpStack(List<String> names, Map<String, Integer> keepAliveSeconds) {
    this.names = List.copyOf(names);
    this.keepAliveSeconds = Map.copyOf(keepAliveSeconds);
  }

  public static PhpStack of(String... names) {
    return new PhpStack(List.of(names), Map.of());
  }

  /** Servers, in this order, each with its own Apache {@code KeepAliveTimeout} in seconds. */
  public static PhpStack withKeepAliveTimeouts(Map<String, Integer> secondsByName) {
    return new PhpStack(List.copyOf(secondsByName.keySet()), secondsByName);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Optional<Path> apache2 = APACHE2.stream().filter(Files::isExecutable).findFirst();
    if (apache2.isEmpty()) {
      // skipped in beforeEach, so that every test is reported skipped with this reason
      skipReason = "apache2 is not installed, skipping the PHP + Memcached end-to-end tests; to run them: apt-get"
          + " install -y " + PACKAGES + " (CI installs them)";
      System.err.println("e2e: " + skipReason);
      return;
    }
    Path memcachedBinary = MEMCACHED.stream().filter(Files::isExecutable).findFirst().orElseThrow(() ->
        new IllegalStateException("apache2 is installed but memcached is not: apt-get install -y " + PACKAGES));
    Apache.Modules modules = Apache.Modules.find(MODULES, MODS_AVAILABLE);
    Path php = DEMO_APP.resolve("php");
    if (!Files.isRegularFile(php.resolve("index.php"))) {
      throw new IllegalStateException("demo app not found at " + php + " (tests must run in the project directory)");
    }
    dir = Files.createTempDirectory("tether-e2e-");
    shutdownHook = new Thread(this::destroy, "tether-e2e-teardown");
    Runtime.getRuntime().addShutdownHook(shutdownHook); // no Apache outlives a JVM that dies mid-test
    try {
      memcached = Memcached.start(memcachedBinary, dir);
      Path docRoot = servable(php);
      List<String> phpSettings = phpSettings(DEMO_APP.resolve("php.ini"), "127.0.0.1:" + memcached.port());
      for (String name : names) {
        servers.put(name, Apache.create(name, apache2.get(), dir, modules, docRoot, phpSettings,
            keepAliveSeconds.getOrDefault(name, Apache.KEEPALIVE_TIMEOUT_SECONDS)));
      }
      checkSessions();
    } catch (Exception | Error e) {
      destroy();
      throw e;
    }
    System.out.printf("e2e: memcached on 127.0.0.1:%d; %s%n", memcached.port(), servers.values().stream()
        .map(a -> a.name() + " on " + a.address() + " (pid " + a.pid() + ")").toList());
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    assumeTrue(skipReason == null, skipReason);
    for (Apache a : servers.values()) {
      a.ensureRunning();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    destroy();
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook runs destroy() again, harmlessly
      }
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // best effort: a temp dir
      }
    }
  }

  private synchronized void destroy() {
    servers.values().forEach(Apache::destroy);
    if (memcached != null) {
      memcached.close();
    }
  }

  public Apache server(String name) {
    Apache a = servers.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no server " + name + " (have " + servers.keySet() + ")");
    }
    return a;
  }

  public List<Apache> servers() {
    return List.copyOf(servers.values());
  }

  public int memcachedPort() {
    return memcached.port();
  }

  /** The error logs of every server, for failure messages. */
  public String errorLogs() {
    StringBuilder b = new StringBuilder();
    servers.values().forEach(a -> b.append(a.errorLogTail()));
    return b.toString();
  }

  /**
   * demo-app/php.ini as Apache directives: {@code php_value KEY VALUE} ({@code php_flag} for On/Off), with
   * session.save_path replaced by the test's memcached.
   */
  static List<String> phpSettings(Path ini, String savePath) throws IOException {
    List<String> out = new ArrayList<>();
    boolean sawSavePath = false;
    for (String raw : Files.readAllLines(ini)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith(";") || line.startsWith("[")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new IllegalStateException(ini + ": not key = value: " + raw);
      }
      String key = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (value.startsWith("\"") && value.endsWith("\"") && value.length() >= 2) {
        value = value.substring(1, value.length() - 1);
      }
      if (key.equals("session.save_path")) {
        value = savePath;
        sawSavePath = true;
      }
      boolean flag = value.equalsIgnoreCase("on") || value.equalsIgnoreCase("off");
      out.add((flag ? "php_flag " : "php_value ") + key + " \"" + value + "\"");
    }
    if (!sawSavePath) {
      throw new IllegalStateException(ini + ": no session.save_path");
    }
    return out;
  }

  /**
   * The directory Apache serves: the repository's demo-app/php itself when its children (www-data, when the tests
   * run as root) can read it, else a world-readable copy in the temp dir (a checkout under a private home).
   */
  private Path servable(Path php) throws IOException {
    if (!Ports.isRoot() || readableByOthers(php)) {
      return php;
    }
    Path copy = Files.createDirectories(dir.resolve("htdocs"));
    try (Stream<Path> files = Files.list(php)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy.resolve(f.getFileName()), PosixFilePermissions.fromString("rw-r--r--"));
      }
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
    System.out.println("e2e: " + php + " is not readable by www-data: serving a copy from " + copy);
    return copy;
  }

  private static boolean readableByOthers(Path php) throws IOException {
    for (Path p = php; p != null; p = p.getParent()) {
      if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        return false;
      }
    }
    try (Stream<Path> files = Files.list(php)) {
      for (Path f : files.toList()) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
        if (!perms.contains(PosixFilePermission.OTHERS_READ)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Fails at once, with the error logs, when PHP sessions in memcached do not work (missing php-memcached...). */
  private void checkSessions() throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Apache first = servers.values().iterator().next();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + first.address() + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 || !r.body().startsWith("server=" + first.name() + " count=1 ")) {
      throw new IllegalStateException("PHP sessions in memcached do not work (need " + PACKAGES + "): "
          + r.statusCode() + " " + r.body() + first.errorLogTail());
    }
  }
}
