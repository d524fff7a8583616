package tether.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Netty's buffer leak detector at PARANOID (every buffer tracked; the build's default samples one in 128) for one
 * test: {@code try (LeakWatch leaks = LeakWatch.start()) { ...; leaks.assertNone(); }}. The detector reports a
 * buffer when it is collected unreleased, so {@link #assertNone} collects, then allocates to be told.
 */
public final class LeakWatch implements AutoCloseable {

  private final List<String> leaks = Collections.synchronizedList(new ArrayList<>());
  private final ResourceLeakDetector<?> detector;
  private final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();

  private LeakWatch(ResourceLeakDetector<?> detector) {
    this.detector = detector;
    detector.setLeakListener((type, records) -> leaks.add(type + records));
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
  }

  public static LeakWatch start() throws ReflectiveOperationException {
    java.lang.reflect.Field f = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
    f.setAccessible(true);
    return new LeakWatch((ResourceLeakDetector<?>) f.get(null));
  }

  /** Collects garbage five times, allocating between, then asserts no buffer was reported leaked. */
  public void assertNone() throws InterruptedException {
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100); // (the reference queue is filled by the collector's thread: no condition to wait on)
      for (int j = 0; j < 100; j++) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.release();
      }
    }
    assertThat(leaks).as("leaked buffers").isEmpty();
  }

  @Override
  public void close() {
    ResourceLeakDetector.setLevel(level);
    detector.setLeakListener(null);
  }
}
