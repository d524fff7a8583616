#!/usr/bin/env bash
# Tether's memory with the documented JVM flags (conf/jvm.options), loopback only, every loop bounded:
#   1. RSS under load: wrk -c$CONNS for $DURATION s on /small, then on /16k (the bench's config: one event loop on
#      one core, access log to a file, cookie stickiness); RSS sampled every 0.5 s, VmHWM (peak RSS) after each;
#   2. RSS with $IDLE idle keep-alive client connections (bench/resources.py --uploads 0);
#   3. a $BIG download (a sparse file from nginx) and a $BIG upload (curl -T to bench/sink.py, which discards it)
#      through a fresh Tether: RSS every 0.5 s during each, start/max/end, and the transfer time.
# Summary in $OUT_DIR/summary.md (default bench/results/<date>-memory), printed at the end.
# Usage: bench/memory.sh   [JAR=target/tether.jar] [JVM_OPTS="@conf/jvm.options"] [CONNS=500] [DURATION=20]
#                          [IDLE=10000] [BIG=1G] [OUT_DIR=...] [PARTS="load idle transfer"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
JAR=${JAR:-$root/target/tether.jar} JVM_OPTS=${JVM_OPTS-@$root/conf/jvm.options}
CONNS=${CONNS:-500} DURATION=${DURATION:-20} IDLE=${IDLE:-10000} BIG=${BIG:-1G} PARTS=${PARTS:-load idle transfer}
OUT_DIR=${OUT_DIR:-$root/bench/results/$(date +%Y%m%d-%H%M)-memory}
ulimit -n "$(ulimit -Hn)"
source "$here/lib.sh"
mkdir -p "$OUT_DIR"
out=$OUT_DIR/summary.md
start_backends
truncate -s "$BIG" "$run/www/big"

mib() { echo $(( $1 / 1024 )); }
status_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; } # status_kib PID VmRSS|VmHWM
# sample PID FILE: the PID's RSS in KiB every 0.5 s into FILE, for at most 20 min; run it in the background
sample() {
  local _
  for _ in $(seq 2400); do status_kib "$1" VmRSS >>"$2" 2>/dev/null || return 0; sleep 0.5; done
}
# sampled FILE: "start max end" in MiB
sampled() { awk 'NR == 1 {s = $1} {if ($1 > m) m = $1; e = $1} END {printf "%d %d %d\n", s/1024, m/1024, e/1024}' "$1"; }

# shellcheck disable=SC2086
{
  echo "# Tether memory, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(nproc) cores, $(free -m | awk '/^Mem:/ {print $2}') MiB; $(java -version 2>&1 | head -1)"
  echo "- JVM options: \`-XX:ActiveProcessorCount=1 $JVM_OPTS\`$( [ -f "${JVM_OPTS#@}" ] && printf ' =\n  `%s`' \
      "$(grep -v '^\s*#' "${JVM_OPTS#@}" | sed 's/\s*#.*//' | grep . | tr '\n' ' ')")"
  echo "- Tether pinned to CPU $PROXY_CPU, load and backends to CPU $LOAD_CPU"
  echo
} >"$out"

# 1. under load
if [[ " $PARTS " == *" load "* ]]; then
# shellcheck disable=SC2086
start_tether "$JAR" 18090 load $JVM_OPTS
pid=$started
curl -s -o /dev/null "http://127.0.0.1:18090/small"
{
  echo "## 1. Under load: wrk -t1 -c$CONNS, ${DURATION} s per body (one event loop, access log, cookie stickiness)"
  echo
  echo "RSS after start: $(mib "$(status_kib "$pid" VmRSS)") MiB"
  echo
  echo "| body | req/s | p99 | non-2xx/errors | RSS start | RSS max (0.5 s samples) | RSS end | VmHWM (peak RSS so far) |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|"
} >>"$out"
for body in small 16k; do
  : >"$run/rss-$body"
  sample "$pid" "$run/rss-$body" &
  sampler=$!
  pids+=("$sampler")
  res=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:18090/$body")
  kill "$sampler" 2>/dev/null || true
  read -r s m e < <(sampled "$run/rss-$body")
  echo "$res" | awk -v body="$body" -v s="$s" -v m="$m" -v e="$e" -v hwm="$(mib "$(status_kib "$pid" VmHWM)")" '
    / 99%/ {p = $2} /Requests\/sec/ {r = $2} /Non-2xx|Socket errors/ {err = err $0 " "}
    END {printf "| /%s | %.0f | %s | %s | %d MiB | %d MiB | %d MiB | %d MiB |\n", body, r, p, (err ? err : "none"), s, m, e, hwm}' \
    >>"$out"
done
kill "$pid"; wait "$pid" 2>/dev/null || true
fi

# 2. idle connections
if [[ " $PARTS " == *" idle "* ]]; then
echo >>"$out"
echo "## 2. $IDLE idle keep-alive client connections (bench/resources.py --uploads 0, workers: 1)" >>"$out"
echo >>"$out"
python3 "$here/resources.py" --idle "$IDLE" --uploads 0 --workers 1 --jar "$JAR" --cpu "$PROXY_CPU" \
  --java-args "-XX:ActiveProcessorCount=1 $JVM_OPTS" | sed 's/^/    /' >>"$out"
fi


# 3. big transfers through a fresh Tether: /big from nginx, /upload to the sink
if [[ " $PARTS " == *" transfer "* ]]; then
sink_port=18009
python3 "$here/sink.py" "$sink_port" &
pids+=($!)
cat >"$run/big.yaml" <<YAML
listen: [{address: 127.0.0.1, port: 18091}]
admin: {enabled: false}
workers: 1
access_log: {enabled: true, format: text, path: $run/big.access.log}
limits: {max_body_bytes: 2GB}
upstreams:
  app:
    servers: [{name: b1, address: "127.0.0.1:18001"}]
    sticky: {mode: cookie, cookie: SRV, secret: bench-secret}
  sink:
    servers: [{name: sink, address: "127.0.0.1:$sink_port"}]
routes:
  - {path: /upload, upstream: sink}
  - {path: /, upstream: app}
YAML
# shellcheck disable=SC2086
launch_tether "$JAR" 18091 big $JVM_OPTS
pid=$started
{
  echo
  echo "## 3. $BIG through Tether (curl on CPU $LOAD_CPU, RSS every 0.5 s)"
  echo
  echo "| transfer | bytes | seconds | MiB/s | RSS start | RSS max | RSS end | samples |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >>"$out"
transfer() { # transfer NAME CURL_ARGS...
  local name=$1 res s m e
  shift
  : >"$run/rss-$name"
  sample "$pid" "$run/rss-$name" &
  local sampler=$!
  pids+=("$sampler")
  sleep 1 # a sample or two before the transfer starts
  res=$(taskset -c "$LOAD_CPU" curl -sS --max-time 600 -o /dev/null -w '%{http_code} %{size_download} %{size_upload} %{time_total}' "$@")
  sleep 1
  kill "$sampler" 2>/dev/null || true
  read -r s m e < <(sampled "$run/rss-$name")
  echo "$res" | awk -v name="$name" -v s="$s" -v m="$m" -v e="$e" -v n="$(wc -l <"$run/rss-$name")" '
    {bytes = ($3 > $2 ? $3 : $2); printf "| %s (HTTP %s) | %d | %.1f | %.0f | %d MiB | %d MiB | %d MiB | %d |\n",
       name, $1, bytes, $4, bytes / 1048576 / $4, s, m, e, n}' >>"$out"
}
transfer download "http://127.0.0.1:18091/big"
transfer upload -T "$run/www/big" -X POST "http://127.0.0.1:18091/upload"
echo >>"$out"
echo "VmHWM (peak RSS) of this Tether after both: $(mib "$(status_kib "$pid" VmHWM)") MiB" >>"$out"
fi
cat "$out"
