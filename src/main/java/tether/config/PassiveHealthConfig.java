package tether.config;

import java.time.Duration;
import java.util.Set;

/** Ejection on real traffic: {@code maxFails} consecutive failures within {@code failWindow}; 0 turns it off. */
public record PassiveHealthConfig(int maxFails, Duration failWindow, Duration ejectFor, Duration maxEjectFor,
                                  Set<Integer> failStatuses) {
  public PassiveHealthConfig {
    failStatuses = Set.copyOf(failStatuses);
  }
}
