#!/usr/bin/env bash
# RSS of Tether under c=500 load: usage [ENVV=...] rss.sh [extra JVM opts...]
set -euo pipefail
root=/work/main
source $root/bench/lib.sh
start_backends
start_tether ${JAR:-$root/target/tether.jar} 18090 nmt @$root/conf/jvm.options "$@"
pid=$started
s=$(awk '/VmRSS/{print int($2/1024)}' /proc/$pid/status)
out="start $s"
for body in small 16k small; do
r=$(taskset -c $LOAD_CPU wrk -t1 -c500 -d8s http://127.0.0.1:18090/$body | awk '/Requests/{print int($2)}')
out="$out | $body $r req/s RSS $(awk '/VmRSS/{print int($2/1024)}' /proc/$pid/status)"
done
echo "$* ${ENVV:-}: $out HWM $(awk '/VmHWM/{print int($2/1024)}' /proc/$pid/status)"
