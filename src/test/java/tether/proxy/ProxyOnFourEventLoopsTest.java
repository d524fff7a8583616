package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnFourEventLoops;

/** {@link ProxyTest} again with four event loops. */
@ExtendWith(OnFourEventLoops.class)
class ProxyOnFourEventLoopsTest extends ProxyTest {}
