#!/usr/bin/env bash
# Issue 14's bench in one go: Tether next to nginx-ka1024 (the ratio base), nginx, HAProxy and the Vert.x baseline,
# interleaved by ../shared/bench/compare.sh, once per cookie mode (COOKIE_MODES="new hit": every client new, so
# every response carries a freshly signed cookie; or every client sending the cookie it was issued), each with
# small and 16 KiB bodies at 50 and 500 connections; then bench/goals.py merges both into one summary table
# (req/s, p99 and CPU µs/req as ratios to nginx-ka1024 in the same rounds, errors, upstream conns opened, RSS)
# and marks each goal met or not, printed and written to $OUT_DIR/summary.md.
# Each case is warmed up for WARMUP=15 s per target before its rounds (compare.sh's default is 3).
# Tether: one event loop pinned to one core (-XX:ActiveProcessorCount=1, workers: 1), JVM flags from
# conf/jvm.options when it exists, cookie stickiness on (STICKY_MODE=none|route|... to compare), access log on
# (to a file; ACCESS_LOG=stdout|off to compare).
# MEMORY=1 also runs bench/memory.sh (when present) into $OUT_DIR/memory and adds its summary.
# Results: bench/results/<date>-<time>/ (OUT_DIR): cookie-new/ and cookie-hit/ (compare.sh's raw outputs,
# results.csv, summary.md with every target), summary.md (the goals). With the defaults (ROUNDS=5 DURATION=10,
# 6 targets, 240 wrk runs) it takes about 50 min on a quiet machine, more when others load it (each run first
# waits up to 30 s for quiet; disturbed runs are redone once); a quick look: ROUNDS=2 DURATION=8. Settings pass through
# to compare.sh, e.g. ROUNDS=3 DURATION=8 CONNS="50 500" BODIES="small 16k" COOKIE_MODES=hit bench/run.sh
# Takes /tmp/tether-bench.lock (one load run at a time), or reuses it under `flock /tmp/tether-bench.lock`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
compare=${COMPARE:-$root/../shared/bench/compare.sh}
cookie_modes=${COOKIE_MODES:-"new hit"}
for m in $cookie_modes; do
  [[ $m == new || $m == hit ]] || { echo "COOKIE_MODES: new and/or hit, not '$m'" >&2; exit 2; }
done
. "$here/lock.sh"
. "$here/config.sh"

missing=()
for tool in nginx haproxy caddy wrk mpstat pidstat taskset; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  { apt-get update -q && apt-get install -y -q nginx haproxy caddy wrk sysstat util-linux; } >&2
fi

(cd "$root" && mvn -B -q package -DskipTests) >&2

conf=$(mktemp -d /tmp/bench-tether.XXXX)
trap 'rm -rf "$conf"' EXIT # the access log: hundreds of MB a run
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
bench_yaml 18080 "$access_log" "$sticky" >"$conf/tether.yaml"

export OUT_DIR=${OUT_DIR:-$root/bench/results/$(date +%Y%m%d-%H%M)}
out=$OUT_DIR
# compare.sh warms every JVM up for JVM_WARMUP s at small c=50 only, then each case for WARMUP s (3 by default): a
# JVM that meets 500 connections or 16 KiB bodies then compiles during the measured rounds (C2: 5 % of the core a
# minute into c=500, bench/results/20261201-profile-s7-c500). 15 s per case measures the steady state; every target
# gets the same, so nginx's figures do not move.
export WARMUP=${WARMUP:-15}
export PROXIES=${PROXIES:-"direct nginx-ka1024 haproxy vertx-epoll-j17"}
[[ " $PROXIES " == *" nginx-ka1024 "* ]] || PROXIES="$PROXIES nginx-ka1024" # the ratio base of the goals
# compare.sh would build vertx-baseline inside ../shared/bench, which is read-only: build a copy under /tmp.
if [[ " $PROXIES " == *" vertx-"* && -z ${VERTX_JAR:-} ]]; then
  vertx_dir=/tmp/bench-vertx-baseline
  if [ ! -f "$vertx_dir/target/vertx-baseline.jar" ]; then
    rm -rf "$vertx_dir" && cp -r "$(dirname "$compare")/vertx-baseline" "$vertx_dir"
    (cd "$vertx_dir" && mvn -q -B package) >&2
  fi
  export VERTX_JAR=$vertx_dir/target/vertx-baseline.jar
fi
jvm_options=
if [ -f "$root/conf/jvm.options" ]; then
  jvm_options="@$root/conf/jvm.options "
fi
export EXTRA_PROXY_NAME=tether EXTRA_PROXY_PORT=18080
export EXTRA_PROXY_CMD="java ${jvm_options}-XX:ActiveProcessorCount=1 -jar $root/target/tether.jar run --config $conf/tether.yaml"
mkdir -p "$out"
cp "$conf/tether.yaml" "$out/"
[ -n "$jvm_options" ] && cp "$root/conf/jvm.options" "$out/"

started=$(date +%s)
dirs=() failed=()
for m in $cookie_modes; do
  rm -f "$conf/access.log"
  echo "== COOKIE_MODE=$m -> $out/cookie-$m" >&2
  # compare.sh prints its summary (every target, also in cookie-$m/summary.md): to stderr, with its progress
  if OUT_DIR=$out/cookie-$m COOKIE_MODE=$m "$compare" >&2; then :; else failed+=("cookie-$m"); fi
  # results.csv starts with its header: rows after it, or nothing to summarise
  if [ "$(wc -l <"$out/cookie-$m/results.csv" 2>/dev/null || echo 0)" -gt 1 ]; then dirs+=("$out/cookie-$m"); fi
done
if [ "${MEMORY:-0}" = 1 ]; then
  if [ -f "$here/memory.sh" ]; then
    echo "== bench/memory.sh -> $out/memory" >&2
    OUT_DIR=$out/memory bash "$here/memory.sh" >&2 || failed+=(memory)
  else
    echo "MEMORY=1: bench/memory.sh is not there (yet), skipped" >&2
  fi
fi

{
  if [ ${#dirs[@]} -gt 0 ]; then
    python3 "$here/goals.py" "${dirs[@]}" || failed+=(goals.py)
  fi
  if [ -f "$out/memory/summary.md" ]; then
    echo
    echo "## Memory (bench/memory.sh)"
    echo
    cat "$out/memory/summary.md"
  fi
  echo
  echo "Every target, each cookie mode: $(printf '%s/summary.md ' "${dirs[@]#$out/}")(in $out)."
  echo "The run took $(( ($(date +%s) - started + 59) / 60 )) min.${failed[*]:+ FAILED: ${failed[*]}}"
} >"$out/summary.md"
cat "$out/summary.md"
[ ${#failed[@]} -eq 0 ]
