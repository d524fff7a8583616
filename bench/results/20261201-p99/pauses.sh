#!/usr/bin/env bash
# GC/safepoint/trim pauses of Tether under wrk load: pauses.sh CONNS [extra JVM opts]
set -euo pipefail
root=/work/main
source $root/bench/lib.sh
start_backends
c=$1; shift
start_tether $root/target/tether.jar 18090 p @$root/conf/jvm.options -Xlog:gc,safepoint,trimnative*=debug:file=/tmp/pauses.log:uptime "$@"
pid=$started
taskset -c $LOAD_CPU wrk -t1 -c$c -d20s http://127.0.0.1:18090/small >/dev/null
: > /tmp/pauses.mark; grep -c . /tmp/pauses.log > /tmp/pauses.skip
taskset -c $LOAD_CPU wrk -t1 -c$c -d10s --latency http://127.0.0.1:18090/small | grep -E "Req|50%|90%|99%|Latency"
