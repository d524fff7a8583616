package tether.compression;

/** The content codings Tether applies, in its order of preference when a client accepts both equally. */
public enum Coding {
  ZSTD("zstd"),
  GZIP("gzip");

  /** As written in Accept-Encoding and Content-Encoding. */
  public final String token;

  Coding(String token) {
    this.token = token;
  }
}
