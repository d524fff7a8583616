package tether.sticky;

import tether.upstream.Backend;

/** A pin found through a session key (learned id, hash key, route id): the key is what to remember on re-pin. */
final class KeyedPin extends Pin {

  final String key;

  KeyedPin(Backend target, String invalid, String key) {
    this(target, invalid, key, 0);
  }

  KeyedPin(Backend target, String invalid, String key, long hash) {
    super(target, invalid, hash);
    this.key = key;
  }

  @Override
  public String userKey() {
    return key;
  }
}
