package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.BindException;
import org.junit.jupiter.api.Test;

class ListenExceptionTest {

  @Test
  void namesTheListenerAndTheReasonInOneLineForBothTransports() {
    // NIO, and epoll's NativeIoException message
    assertThat(ListenException.of("listen[0]", "0.0.0.0", 8080, new BindException("Address already in use"))
        .getMessage()).isEqualTo("listen[0] 0.0.0.0:8080: address already in use");
    assertThat(ListenException.of("admin", "::1", 9901, new BindException("bind(..) failed: Address already in use"))
        .getMessage()).isEqualTo("admin [::1]:9901: address already in use");
    assertThat(ListenException.of("listen[1]", "0.0.0.0", 80, new BindException("bind(..) failed: Permission denied"))
        .getMessage()).startsWith("listen[1] 0.0.0.0:80: permission denied (ports below 1024 need root or"
            + " CAP_NET_BIND_SERVICE");
  }
}
