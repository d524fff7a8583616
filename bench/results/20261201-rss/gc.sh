#!/usr/bin/env bash
# gc.sh CONNS OPTSFILE [extra]: young/full GC counts and pauses in a 10 s wrk run after 20 s warmup
set -euo pipefail
root=/work/main
source $root/bench/lib.sh
start_backends
c=$1; f=$2; shift 2
start_tether ${JAR:-$root/target/tether.jar} 18090 p @$f -Xlog:gc,safepoint:file=$run/gc.log:uptime "$@"
pid=$started
taskset -c $LOAD_CPU wrk -t1 -c$c -d20s http://127.0.0.1:18090/small >/dev/null
skip=$(grep -c . $run/gc.log); t0=$(cpu_ticks $pid)
out=$(taskset -c $LOAD_CPU wrk -t1 -c$c -d10s --latency http://127.0.0.1:18090/small)
t1=$(cpu_ticks $pid)
rps=$(echo "$out" | awk '/Requests\/sec/{print int($2)}'); p99=$(echo "$out" | awk '/ 99%/{print $2}')
tail -n +$((skip+1)) $run/gc.log > $run/gc.win
y=$(grep -c "Pause Young" $run/gc.win || true); fu=$(grep -c "Pause Full" $run/gc.win || true)
sp=$(grep "Safepoint" $run/gc.win | awk -F"Total: " '{t=$2+0; s+=t; if (t>m) m=t} END {printf "%.0f ms total, max %.1f ms", s/1e6, m/1e6}')
heap=$(grep "Pause Young" $run/gc.win | tail -1 | grep -oE "[0-9]+M->[0-9]+M\([0-9]+M\)")
echo "c=$c $(basename $f) $*: $rps req/s p99 $p99 cpu $(( (t1-t0)*10000000/ (rps*10) ))ns/req | young $y full $fu | safepoints $sp | last $heap"
