package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnIoUring;

/** {@link ProxyTest} again on io_uring (the suite runs on {@code transport: auto}, epoll). */
@ExtendWith(OnIoUring.class)
class ProxyOnIoUringTest extends ProxyTest {}
