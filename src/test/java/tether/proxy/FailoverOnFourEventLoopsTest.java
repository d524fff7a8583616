package tether.proxy;

import org.junit.jupiter.api.extension.ExtendWith;
import tether.testing.OnFourEventLoops;

/** {@link FailoverTest} again with four event loops. */
@ExtendWith(OnFourEventLoops.class)
class FailoverOnFourEventLoopsTest extends FailoverTest {}
