#!/usr/bin/env bash
set -euo pipefail
source /work/main/bench/lib.sh
start_backends
base="-XX:+UseSerialGC -XX:MaxDirectMemorySize=64m -XX:MaxMetaspaceSize=64m -Xss512k -XX:TrimNativeHeapInterval=5000"
i=0
while IFS= read -r opts; do
  i=$((i+1))
  start_tether /work/main/target/tether.jar $((18090+i)) g$i $base $opts -Xlog:gc:file=/tmp/gcm-$i.log
  p=$started
  taskset -c 1 wrk -t1 -c500 -d20s http://127.0.0.1:$((18090+i))/small >/dev/null
  n0=$(wc -l < /tmp/gcm-$i.log)
  out=$(taskset -c 1 wrk -t1 -c500 -d15s --latency http://127.0.0.1:$((18090+i))/small)
  full=$(tail -n +$n0 /tmp/gcm-$i.log | grep -c "Pause Full" || true)
  young=$(tail -n +$n0 /tmp/gcm-$i.log | grep -c "Pause Young" || true)
  hwm=$(awk '/VmHWM/{print int($2/1024)}' /proc/$p/status); rss=$(awk '/VmRSS/{print int($2/1024)}' /proc/$p/status)
  echo "$opts | $(echo "$out" | awk '/Requests\/sec/{r=$2} / 99%/{p=$2} END{print r" req/s p99 "p}') | young $young full $full | RSS $rss HWM $hwm"
  kill $p; wait $p 2>/dev/null || true
done <<'LIST'
-Xms32m -Xmx128m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30
-Xms64m -Xmx128m
-Xms64m -Xmx128m -Xmn32m
-Xms96m -Xmx128m -Xmn48m
LIST
