package tether.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import tether.config.IoTransport;

/**
 * Runs a test class's Tethers on epoll ({@code @ExtendWith(OnEpoll.class)} on a subclass of a suite): the suite
 * runs on {@code transport: auto}, io_uring where the kernel allows it, and epoll is what containers that forbid
 * io_uring get. The two transports order events differently (on io_uring a channel's close event comes a loop
 * after the failed write that showed it), so the request paths are run on both.
 */
public final class OnEpoll implements BeforeAllCallback, AfterAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    assumeTrue(IoTransport.EPOLL.available(), "epoll does not work here");
    TetherHarness.defaultTransport = "epoll";
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TetherHarness.defaultTransport = null;
  }
}
