package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnIoUring;

/** {@link KeepAliveRaceTest} again on io_uring (the suite runs on {@code transport: auto}, epoll). */
@ExtendWith(OnIoUring.class)
class KeepAliveRaceOnIoUringTest extends KeepAliveRaceTest {}
