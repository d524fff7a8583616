package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The recent-values cache in front of HMAC changes no answer: what was refused stays refused, rotation holds. */
class SignedCookieTest {

  private final SignedCookie signer = new SignedCookie(List.of("k1"));

  @Test
  void aVerifiedValueIsAcceptedAgainAndEveryOneCharMutationOfItIsStillRefused() throws Exception {
    String value = signer.encode("web1", 1000, 2000);
    assertThat(signer.decode(value)).isEqualTo(new SignedCookie.Value("web1", 1000, 2000));
    assertThat(signer.decode(value)).isEqualTo(new SignedCookie.Value("web1", 1000, 2000)); // from the cache
    int refused = 0;
    for (int i = 0; i < value.length(); i++) {
      for (char c : new char[] {'A', 'z', '0', '.', '_'}) {
        if (value.charAt(i) == c) {
          continue;
        }
        String mutated = value.substring(0, i) + c + value.substring(i + 1);
        assertThatThrownBy(() -> signer.decode(mutated)).as(mutated).isInstanceOf(SignedCookie.Invalid.class);
        refused++;
      }
      assertThat(signer.decode(value).server()).isEqualTo("web1"); // the cached value keeps working in between
    }
    assertThat(refused).isGreaterThan(4 * value.length());
  }

  @Test
  void issuedValuesAreTheSameForTheSameInputsAndDifferOtherwise() throws Exception {
    String a = signer.encode("web1", 1000, 2000);
    assertThat(signer.encode("web1", 1000, 2000)).isEqualTo(a);
    String later = signer.encode("web1", 1000, 2001);
    String other = signer.encode("web2", 1000, 2000);
    assertThat(later).isNotEqualTo(a);
    assertThat(other).isNotEqualTo(a);
    assertThat(signer.decode(later)).isEqualTo(new SignedCookie.Value("web1", 1000, 2001));
    assertThat(signer.decode(other)).isEqualTo(new SignedCookie.Value("web2", 1000, 2000));
  }

  @Test
  void aValueCachedByOneKeySetIsRefusedByAnotherThatLacksTheKey() throws Exception {
    String value = signer.encode("web1", 1000, 2000);
    signer.decode(value);
    SignedCookie rotated = new SignedCookie(List.of("k2"));
    assertThatThrownBy(() -> rotated.decode(value)).isInstanceOf(SignedCookie.Invalid.class);
    assertThat(new SignedCookie(List.of("k2", "k1")).decode(value).server()).isEqualTo("web1");
  }

  @Test
  void manyDistinctValuesSharingSlotsAreEachAnsweredRight() throws Exception {
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 3 * SignedCookie.RECENT_SLOTS; i++) {
        String value = signer.encode("web" + (i % 7), i, i + 1L);
        assertThat(signer.decode(value)).isEqualTo(new SignedCookie.Value("web" + (i % 7), i, i + 1L));
      }
    }
  }
}
