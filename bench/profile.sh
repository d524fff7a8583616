#!/usr/bin/env bash
# Profile Tether's request path under the bench's load with async-profiler (tools.profiler:async-profiler from
# Maven Central): Tether on one core (PROXY_CPU), two nginx backends and wrk on the other, access log on (to a file),
# cookie stickiness on. Writes into bench/results/<date>-profile/: cpu.html and alloc.html (flame graphs),
# cpu.txt and alloc.txt (top frames), cpu.collapsed.gz / alloc.collapsed.gz,
# syscalls-per-request.txt (strace -c), wrk-*.txt.
# Usage: bench/profile.sh            CONNS=50 BODY=small DURATION=20 WARMUP=20 COOKIE_MODE=hit|new JAVA_OPTS=...
#        (JVM flags: conf/jvm.options, as bench/run.sh, then JAVA_OPTS; JVM_OPTIONS= leaves the JVM defaults)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
CONNS=${CONNS:-50} BODY=${BODY:-small} DURATION=${DURATION:-20} WARMUP=${WARMUP:-20}
COOKIE_MODE=${COOKIE_MODE:-new}
OUT_DIR=${OUT_DIR:-$root/bench/results/$(date +%Y%m%d-%H%M)-profile}
AP_VERSION=4.1
source "$here/lib.sh"
(cd "$root" && mvn -B -q package -DskipTests)
ap_jar=$HOME/.m2/repository/tools/profiler/async-profiler/$AP_VERSION/async-profiler-$AP_VERSION.jar
[ -f "$ap_jar" ] || mvn -B -q dependency:get -Dartifact=tools.profiler:async-profiler:$AP_VERSION
mkdir -p "$OUT_DIR" "$run/ap"
(cd "$run/ap" && unzip -q -o "$ap_jar" linux-x64/libasyncProfiler.so)
lib=$run/ap/linux-x64/libasyncProfiler.so
start_backends
# shellcheck disable=SC2086
start_tether "$root/target/tether.jar" 18080 tether ${JVM_OPTIONS-@$root/conf/jvm.options} ${JAVA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints
tpid=$started
cookie=()
[ "$COOKIE_MODE" = hit ] && cookie=(-H "$(cookie_for 18080)")
url=http://127.0.0.1:18080/$BODY
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${cookie[@]}" "$url" >/dev/null
ap() { jcmd "$tpid" JVMTI.agent_load "$lib" "\"$1\"" | grep -v "^$tpid:" || true; }
# profile EVENT NAME: one wrk run under the profiler, flame graph + collapsed stacks + top self frames
profile() {
  ap "start,event=$1,interval=${3:-}"
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${cookie[@]}" "$url" >"$OUT_DIR/wrk-$2.txt"
  ap "stop,file=$OUT_DIR/$2.html"
  ap "start,event=$1,interval=${3:-}"
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$(( DURATION / 2 ))s" "${cookie[@]}" "$url" >/dev/null
  ap "stop,collapsed,file=$OUT_DIR/$2.collapsed"
  python3 "$here/collapsed_top.py" "$OUT_DIR/$2.collapsed" >"$OUT_DIR/$2.txt"
  gzip -f "$OUT_DIR/$2.collapsed"
}
profile cpu cpu 200us
profile alloc alloc 64k
if command -v strace >/dev/null; then # system calls per request (strace slows the proxy; the counts stay right)
  strace -c -f -p "$tpid" -o "$OUT_DIR/syscalls.txt" & spid=$!
  sleep 1
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d5s "${cookie[@]}" "$url" >"$OUT_DIR/wrk-strace.txt"
  kill -INT $spid; wait $spid || true
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$OUT_DIR/wrk-strace.txt")
  awk -v r="$reqs" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $4 > r/100 {printf "%-16s %8.2f per request\n", $NF, $4/r}' \
    "$OUT_DIR/syscalls.txt" >"$OUT_DIR/syscalls-per-request.txt"
fi
echo "$(date -Is) CONNS=$CONNS BODY=$BODY COOKIE_MODE=$COOKIE_MODE JAVA_OPTS=${JAVA_OPTS:-}" >"$OUT_DIR/README.txt"
grep -h "Requests/sec" "$OUT_DIR"/wrk-*.txt >>"$OUT_DIR/README.txt"
echo "profile in $OUT_DIR"
