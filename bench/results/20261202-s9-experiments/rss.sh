#!/usr/bin/env bash
# ad-hoc: start RSS, then HWM after c=500 small and 16k (10 s each). TETHER_JAVA may be "env X=Y java"
set -euo pipefail
source /work/main/bench/lib.sh
start_backends
start_tether /work/main/target/tether.jar 18090 load @/work/main/conf/jvm.options ${OPTS:-}
pid=$started
curl -s -o /dev/null http://127.0.0.1:18090/small; sleep 2
r0=$(awk '/VmRSS/{print int($2/1024)}' /proc/$pid/status)
out="start=$r0"
for body in small 16k; do
  rps=$(taskset -c "$LOAD_CPU" wrk -t1 -c500 -d10s "http://127.0.0.1:18090/$body" | awk '/Requests\/sec/{print int($2)}')
  out="$out $body: rps=$rps HWM=$(awk '/VmHWM/{print int($2/1024)}' /proc/$pid/status) RSS=$(awk '/VmRSS/{print int($2/1024)}' /proc/$pid/status)"
done
echo "${LABEL:-} $out threads=$(ls /proc/$pid/task | wc -l)"
kill $pid
