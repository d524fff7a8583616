#!/usr/bin/env bash
set -euo pipefail
root=/work/main; here=$root/bench; source "$here/lib.sh"
CONNS=${CONNS:-500}
start_backends
start_tether "$root/target/tether.jar" 18080 tether @$root/conf/jvm.options ${EXTRA:-}
tpid=$started
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d20s http://127.0.0.1:18080/small >/dev/null
snap() { for t in /proc/$tpid/task/*; do echo "$(cat $t/comm | tr ' ' _) $(awk '{print $14+$15, $10, $12}' $t/stat) $(grep -E '^(voluntary|nonvoluntary)_ctxt_switches' $t/status | awk '{print $2}' | tr '\n' ' ')"; done | sort; }
snap > /tmp/jit/t0.txt
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d10s --latency http://127.0.0.1:18080/small > /tmp/jit/wrk-threads.txt
snap > /tmp/jit/t1.txt
join -j1 <(awk '{print $1"#"NR, $2, $5, $6}' /tmp/jit/t0.txt) <(awk '{print $1"#"NR, $2, $5, $6}' /tmp/jit/t1.txt) | awk '{d=$5-$2; if (d>0 || $6-$3>10) printf "%-40s cpu_ticks %5d vcsw %7d nvcsw %7d\n", $1, d, $6-$3, $7-$4}'
