package tether.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JitterTest {

  @Test
  void jitterStaysWithinTenPercentAndTheFirstProbeWithinOneInterval() {
    SplittableRandom random = new SplittableRandom(7);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 10_000; i++) {
      long d = Jitter.nextDelayMillis(2000, random);
      min = Math.min(min, d);
      max = Math.max(max, d);
      assertThat(Jitter.firstDelayMillis(2000, random)).isBetween(1L, 2000L);
    }
    assertThat(min).isBetween(1800L, 1850L);
    assertThat(max).isBetween(2150L, 2200L);
  }
}
