package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Ejection on real traffic (nginx's {@code max_fails}/{@code fail_timeout}): {@code maxFails} consecutive failures
 * within {@code failWindow} eject a server for {@code ejectFor}, doubled on each relapse up to {@code maxEjectFor},
 * which is at least ejectFor (Envoy's {@code max_ejection_time} likewise never undercuts
 * {@code base_ejection_time}). {@code maxFails} 0 turns it off; above 1 it needs a failWindow more than 0.
 * {@code failStatuses}: response statuses that count as failures. Broken rules are thrown together as
 * {@link InvalidConfig}.
 */
public record PassiveHealthConfig(int maxFails, Duration failWindow, Duration ejectFor, Duration maxEjectFor,
                                  Set<Integer> failStatuses) {
  public PassiveHealthConfig {
    failStatuses = Set.copyOf(failStatuses);
    List<InvalidConfig.Problem> problems = new ArrayList<>();
    if (maxEjectFor.compareTo(ejectFor) < 0) {
      problems.add(new InvalidConfig.Problem("max_eject_for", Units.format(maxEjectFor) + " is shorter than"
          + " eject_for " + Units.format(ejectFor) + " (expected: max_eject_for >= eject_for)"));
    }
    if (maxFails > 1 && failWindow.isZero()) {
      problems.add(new InvalidConfig.Problem("fail_window", "0s never ejects with max_fails " + maxFails
          + ": every failure starts a new window (expected: more than 0)"));
    }
    InvalidConfig.throwIfAny(problems);
  }
}
