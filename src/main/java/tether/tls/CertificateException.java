package tether.tls;

/** A certificate or key that cannot serve: unreadable, not PEM, not a pair, expired. The message says which file. */
public final class CertificateException extends Exception {

  public CertificateException(String message) {
    super(message);
  }
}
