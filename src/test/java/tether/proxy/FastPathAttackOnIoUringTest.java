package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnIoUring;

/** {@link FastPathAttackTest} again on io_uring (the suite runs on {@code transport: auto}, epoll). */
@ExtendWith(OnIoUring.class)
class FastPathAttackOnIoUringTest extends FastPathAttackTest {}
