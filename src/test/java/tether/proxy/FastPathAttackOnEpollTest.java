package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnEpoll;

/** {@link FastPathAttackTest} again on epoll (the suite runs on {@code transport: auto}: io_uring where the kernel allows it). */
@ExtendWith(OnEpoll.class)
class FastPathAttackOnEpollTest extends FastPathAttackTest {}
