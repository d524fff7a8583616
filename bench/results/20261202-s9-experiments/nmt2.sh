#!/usr/bin/env bash
set -euo pipefail
here=/work/main/bench
source "$here/lib.sh"
start_backends
start_tether "${JAR:-/work/main/target/tether.jar}" 18090 load @/work/main/conf/jvm.options -XX:NativeMemoryTracking=summary ${OPTS:-}
pid=$started
curl -s -o /dev/null http://127.0.0.1:18090/small
sleep 2
echo "start RSS $(awk '/VmRSS/{print $2}' /proc/$pid/status)"
for body in ${BODIES:-small 16k}; do
( for i in $(seq 12); do
   n=$(jcmd $pid VM.native_memory summary 2>/dev/null | awk '/Arena Chunk|Compiler \(|Code \(|Metaspace \(|Other \(/{match($0,/committed=[0-9]+/); printf "%s=%d ", $2, substr($0,RSTART+10,RLENGTH-10)/1024}')
   g=$(jstat -gc $pid | awk 'NR==2{printf "S0U=%d S1U=%d EU=%d OU=%d OC=%d YGC=%s FGC=%s", $3/1024,$4/1024,$6/1024,$8/1024,$7/1024,$13,$15}')
   echo "$body t=$i RSS=$(( $(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024 )) $g $n"; sleep 1; done ) &
taskset -c "$LOAD_CPU" wrk -t1 -c500 -d10s "http://127.0.0.1:18090/$body" | grep -E 'Requests/sec'
wait
echo "after $body HWM $(awk '/VmHWM/{print $2}' /proc/$pid/status)"
done
kill $pid; wait $pid 2>/dev/null || true
