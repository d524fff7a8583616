package tether.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import tether.config.IoTransport;

/**
 * Runs a test class's Tethers on io_uring ({@code @ExtendWith(OnIoUring.class)} on a subclass of a suite): the suite
 * runs on {@code transport: auto}, epoll, and io_uring is an option. The two transports order events differently
 * (on io_uring a channel's close event comes a loop after the failed write that showed it, and Vert.x puts the idle
 * handler first in the pipeline), so the request paths are run on both.
 */
public final class OnIoUring implements BeforeAllCallback, AfterAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    assumeTrue(IoTransport.IO_URING.available(), "io_uring does not work here");
    TetherHarness.defaultTransport = "io_uring";
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TetherHarness.defaultTransport = null;
  }
}
