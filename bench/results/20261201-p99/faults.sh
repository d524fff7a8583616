#!/usr/bin/env bash
set -euo pipefail
root=/work/main
source $root/bench/lib.sh
start_backends
start_tether $root/target/tether.jar 18090 f @$root/conf/jvm.options "$@"
pid=$started
taskset -c $LOAD_CPU wrk -t1 -c50 -d20s http://127.0.0.1:18090/small >/dev/null
f0=$(awk '{print $10}' /proc/$pid/stat); t0=$(cpu_ticks $pid)
r=$(taskset -c $LOAD_CPU wrk -t1 -c50 -d10s http://127.0.0.1:18090/small | awk '/requests in/ {print $1}')
f1=$(awk '{print $10}' /proc/$pid/stat); t1=$(cpu_ticks $pid)
echo "$*: requests $r minflt $((f1-f0)) per-request $(echo "scale=3; ($f1-$f0)/$r" | bc) ticks $((t1-t0))"
