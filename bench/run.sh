#!/usr/bin/env bash
# Tether next to nginx, HAProxy and the Vert.x baseline in one interleaved run of ../shared/bench/compare.sh.
# One event loop pinned to one core (-XX:ActiveProcessorCount=1, workers: 1), cookie stickiness on, access log on
# (to a file; ACCESS_LOG=stdout|off to compare).
# Results go to bench/results/<date>-<time>/ (summary.md, results.csv). Extra settings pass through to
# compare.sh, e.g. ROUNDS=3 DURATION=8 CONNS="50 500" BODIES="small 16k" bench/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
compare=${COMPARE:-$root/../shared/bench/compare.sh}

missing=()
for tool in nginx haproxy caddy wrk mpstat pidstat taskset; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q && apt-get install -y -q nginx haproxy caddy wrk sysstat util-linux
fi

(cd "$root" && mvn -B -q package -DskipTests)

conf=$(mktemp -d /tmp/bench-tether.XXXX)
mode=${STICKY_MODE:-cookie}
if [ "$mode" = cookie ]; then
  sticky="sticky: {mode: cookie, cookie: SRV, secret: bench-secret}"
elif [ "$mode" = none ]; then
  sticky="sticky: {mode: none}"
else
  sticky="sticky: {mode: $mode, cookie: SRV}"
fi
# ACCESS_LOG=file (default: the way operators run it, to a file), stdout or off
case ${ACCESS_LOG:-file} in
  file) access_log="access_log: {enabled: true, format: text, path: $conf/access.log}" ;;
  stdout) access_log="access_log: {enabled: true, format: text}" ;;
  off) access_log="access_log: {enabled: false}" ;;
  *) echo "ACCESS_LOG must be file, stdout or off" >&2; exit 2 ;;
esac
cat > "$conf/tether.yaml" <<YAML
listen: [{address: 127.0.0.1, port: 18080}]
admin: {enabled: false}
workers: 1
$access_log
upstreams:
  app:
    balance: round_robin
    pool_size: 1024
    servers:
      - {name: b1, address: "127.0.0.1:18001"}
      - {name: b2, address: "127.0.0.1:18002"}
    $sticky
YAML

export OUT_DIR=${OUT_DIR:-$root/bench/results/$(date +%Y%m%d-%H%M)}
export PROXIES=${PROXIES:-"direct nginx-ka1024 haproxy vertx-epoll-j17"}
# compare.sh would build vertx-baseline inside ../shared/bench, which is read-only: build a copy under /tmp.
if [[ " $PROXIES " == *" vertx-"* && -z ${VERTX_JAR:-} ]]; then
  vertx_dir=/tmp/bench-vertx-baseline
  if [ ! -f "$vertx_dir/target/vertx-baseline.jar" ]; then
    rm -rf "$vertx_dir" && cp -r "$(dirname "$compare")/vertx-baseline" "$vertx_dir"
    (cd "$vertx_dir" && mvn -q -B package)
  fi
  export VERTX_JAR=$vertx_dir/target/vertx-baseline.jar
fi
export EXTRA_PROXY_NAME=tether EXTRA_PROXY_PORT=18080
export EXTRA_PROXY_CMD="java -XX:ActiveProcessorCount=1 -jar $root/target/tether.jar run --config $conf/tether.yaml"
mkdir -p "$OUT_DIR"
exec "$compare"
