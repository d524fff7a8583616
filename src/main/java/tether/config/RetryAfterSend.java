package tether.config;

/**
 * {@code upstreams.NAME.retry_after_send}: may a request that reached a server which then failed (no response) be
 * sent to another server? {@code IDEMPOTENT} (default, nginx's): yes for idempotent methods with a replayable body
 * (at-least-once: a GET may run twice). {@code NEVER} (HAProxy's default): no, such requests fail with 502/504
 * (at-most-once), for apps whose GETs change state.
 */
public enum RetryAfterSend { IDEMPOTENT, NEVER }
