#!/usr/bin/env bash
set -euo pipefail
root=/work/main
source $root/bench/lib.sh
start_backends
start_tether $root/target/tether.jar 18090 f @$root/conf/jvm.options "$@"
pid=$started
taskset -c $LOAD_CPU wrk -t1 -c50 -d${WARM:-20}s http://127.0.0.1:18090/small >/dev/null
snap() { for t in /proc/$pid/task/*; do echo "${t##*/}:$(cat $t/comm | tr " " _) $(awk '{print $14+$15}' $t/stat) $(awk '/nonvoluntary_ctxt_switches/{print $2}' $t/status)"; done; }
snap > /tmp/th0
taskset -c $LOAD_CPU wrk -t1 -c50 -d10s http://127.0.0.1:18090/small | grep Requests
snap > /tmp/th1
join <(sort /tmp/th0) <(sort /tmp/th1) | awk '{d=$4-$2; nv=$5-$3; if (d>0 || nv>10) print $1, "ticks", d, "nonvol", nv}'
