# Source it. bench_yaml PORT ACCESS_LOG_LINE STICKY_LINE: the bench's Tether configuration on stdout (one event loop,
# no admin, round robin over the two nginx backends of compare.sh and lib.sh, b1 :18001 and b2 :18002).
# TETHER_TRANSPORT=io_uring|epoll|nio sets `transport` (default: not written, so auto).
bench_yaml() {
  cat <<YAML
listen: [{address: 127.0.0.1, port: $1}]
admin: {enabled: false}
workers: 1
${TETHER_TRANSPORT:+transport: $TETHER_TRANSPORT}
$2
upstreams:
  app:
    balance: round_robin
    pool_size: 1024
    servers:
      - {name: b1, address: "127.0.0.1:18001"}
      - {name: b2, address: "127.0.0.1:18002"}
    $3
YAML
}
