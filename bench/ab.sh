#!/usr/bin/env bash
# A/B of two Tether builds or JVM settings, interleaved on one core: for each round, wrk runs against A then B (order
# alternating), and each run reports req/s, p99 and the proxy's own CPU per request (from /proc, user+system).
# The quick check before a full bench/run.sh; not a replacement for its side-by-side ratios to nginx.
# Usage: JAR_A=/tmp/tether-before.jar [JAR_B=target/tether.jar] [OPTS_A=...] [OPTS_B=...] [LOG_A|LOG_B=false]
#        [TRANSPORT_A|TRANSPORT_B=io_uring|epoll|nio] [JAVA_A|JAVA_B=/path/to/bin/java] bench/ab.sh
#        (LOG_x=false: that side without its access log; TRANSPORT_x: that side's `transport`, default auto;
#        JAVA_x: that side's JVM, default java on the PATH)
#        ROUNDS=4 DURATION=8 WARMUP=25 CONNS=50 BODY=small COOKIE_MODE=new|hit
#        JVM_OPTIONS: both sides' JVM flags before OPTS_x, default @conf/jvm.options as bench/run.sh and production
#        (before 2026-12-02 both sides ran with the JVM's defaults: a heap of a quarter of RAM, eden ~100 MiB; to
#        compare collectors, give JVM_OPTIONS without -XX:+UseSerialGC: the JVM refuses two)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
JAR_A=${JAR_A:?JAR_A: the jar to compare against} JAR_B=${JAR_B:-$root/target/tether.jar}
ROUNDS=${ROUNDS:-4} DURATION=${DURATION:-8} WARMUP=${WARMUP:-25} CONNS=${CONNS:-50} BODY=${BODY:-small}
COOKIE_MODE=${COOKIE_MODE:-new} JVM_OPTIONS=${JVM_OPTIONS-@$root/conf/jvm.options}
source "$here/lib.sh"
start_backends
# shellcheck disable=SC2086
TETHER_JAVA=${JAVA_A:-java} TETHER_TRANSPORT=${TRANSPORT_A:-} TETHER_ACCESS_LOG_ON=${LOG_A:-true} start_tether "$JAR_A" 18080 a $JVM_OPTIONS ${OPTS_A:-}; pid_a=$started
# shellcheck disable=SC2086
TETHER_JAVA=${JAVA_B:-java} TETHER_TRANSPORT=${TRANSPORT_B:-} TETHER_ACCESS_LOG_ON=${LOG_B:-true} start_tether "$JAR_B" 18081 b $JVM_OPTIONS ${OPTS_B:-}; pid_b=$started
hz=$(getconf CLK_TCK)
declare -A port=([a]=18080 [b]=18081) pid=([a]=$pid_a [b]=$pid_b)
one() { # one NAME SECONDS: prints "req/s p99_ms cpu_us_per_req"
  local n=$1 cookie=() t0 t1 out
  [ "$COOKIE_MODE" = hit ] && cookie=(-H "$(cookie_for "${port[$n]}")")
  t0=$(cpu_ticks "${pid[$n]}")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${2}s" --latency "${cookie[@]}" "http://127.0.0.1:${port[$n]}/$BODY")
  t1=$(cpu_ticks "${pid[$n]}")
  echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$hz" '
    / 99%/ {p=$2; if (p ~ /us$/) {sub(/us/,"",p); p/=1000} else if (p ~ /ms$/) {sub(/ms/,"",p)} else {sub(/s/,"",p); p*=1000}}
    /requests in/ {n=$1} /Requests\/sec/ {r=$2}
    /Non-2xx|Socket errors/ {e=e" "$0}
    END {printf "%9.0f %7.2f %7.1f%s\n", r, p, ticks/hz*1e6/n, e}'
}
one a "$WARMUP" >/dev/null; one b "$WARMUP" >/dev/null
echo "round target   req/s  p99ms  cpu_us/req"
for r in $(seq "$ROUNDS"); do
  order="a b"; (( r % 2 == 0 )) && order="b a"
  for n in $order; do echo "$r     $n  $(one "$n" "$DURATION")"; done
done | tee "$run/ab.txt"
awk '{s[$2]+=$3; c[$2]+=$5; k[$2]++} END {for (n in s) printf "mean %s: %.0f req/s, %.1f us/req\n", n, s[n]/k[n], c[n]/k[n]}' "$run/ab.txt" | sort
