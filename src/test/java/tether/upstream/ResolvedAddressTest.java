package tether.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The resolved-address state on its own: literals fixed, answers kept stable, failures reported once. */
class ResolvedAddressTest {

  @Test
  void ipLiteralsAreTheirOwnAnswer() {
    ResolvedAddress v4 = ResolvedAddress.of("10.0.0.7", 8080);
    ResolvedAddress v6 = ResolvedAddress.of("::1", 8080);
    assertThat(v4.literal()).isTrue();
    assertThat(v4.shown()).isEqualTo("10.0.0.7:8080").isEqualTo(v4.configured());
    assertThat(v4.pending()).isFalse();
    assertThat(v6.literal()).isTrue();
    assertThat(v6.shown()).isEqualTo("[::1]:8080").isEqualTo(v6.configured());
  }

  @Test
  void aNameHasNoAddressUntilAnswered() {
    ResolvedAddress web1 = ResolvedAddress.of("web1", 80);
    assertThat(web1.literal()).isFalse();
    assertThat(web1.pending()).isTrue();
    assertThat(web1.current()).isNull();
    assertThat(web1.failure()).isEqualTo("not resolved yet");

    assertThat(web1.resolvedTo(List.of("172.18.0.3"))).isTrue();
    assertThat(web1.current().host()).isEqualTo("172.18.0.3");
    assertThat(web1.current().port()).isEqualTo(80);
    assertThat(web1.failure()).isNull();
    assertThat(web1.pending()).isFalse();
  }

  @Test
  void theCurrentAddressStaysWhileStillAnswered() {
    ResolvedAddress web1 = ResolvedAddress.of("web1", 80);
    web1.resolvedTo(List.of("10.0.0.1", "10.0.0.2"));
    assertThat(web1.resolvedTo(List.of("10.0.0.2", "10.0.0.1"))).isFalse(); // rotated answer: no move
    assertThat(web1.shown()).isEqualTo("10.0.0.1:80");
    assertThat(web1.resolvedTo(List.of("10.0.0.9", "10.0.0.2"))).isTrue();
    assertThat(web1.shown()).isEqualTo("10.0.0.9:80");
  }

  @Test
  void aFailureIsNewsOnceAndClearsTheAddress() {
    ResolvedAddress web1 = ResolvedAddress.of("web1", 80);
    web1.resolvedTo(List.of("10.0.0.1"));
    assertThat(web1.failed("NXDOMAIN")).isTrue();
    assertThat(web1.current()).isNull();
    assertThat(web1.failure()).isEqualTo("NXDOMAIN");
    assertThat(web1.failed("NXDOMAIN")).isFalse();
    assertThat(web1.failed("timeout")).isFalse();
    assertThat(web1.resolvedTo(List.of("10.0.0.1"))).isTrue(); // back, even at the same address
  }
}
