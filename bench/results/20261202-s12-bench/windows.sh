#!/usr/bin/env bash
set -euo pipefail
root=/work/main; here=$root/bench; source "$here/lib.sh"
CONNS=${CONNS:-500} N=${N:-12} SECS=${SECS:-10}
start_backends
start_tether "$root/target/tether.jar" 18080 tether @$root/conf/jvm.options ${EXTRA:-}
tpid=$started
c2() { local s=0; for t in /proc/$tpid/task/*; do case "$(cat $t/comm)" in C2*|C1*) s=$((s + $(awk '{print $14+$15}' $t/stat)));; esac; done; echo $s; }
el() { for t in /proc/$tpid/task/*; do case "$(cat $t/comm)" in vert.x-eventloo*) awk '{print $14+$15}' $t/stat;; esac; done | head -1; }
for w in $(seq $N); do
  a=$(c2); e=$(el)
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency http://127.0.0.1:18080/small > /tmp/jit/w.txt
  b=$(c2); f=$(el)
  echo "window $w jit_ticks $((b-a)) loop_ticks $((f-e)) $(grep Requests/sec /tmp/jit/w.txt) $(grep -E '^ +(50|90|99)%' /tmp/jit/w.txt | tr -s ' ' | tr '\n' ' ')"
done
