#!/usr/bin/env bash
# bytes allocated per request (young GCs x eden + eden used delta) for JAR_A and JAR_B, interleaved
set -euo pipefail
root=/work/main; here=$root/bench; source "$here/lib.sh"
CONNS=${CONNS:-50} COOKIE_MODE=${COOKIE_MODE:-hit}
start_backends
start_tether /tmp/jarA.jar 18080 ta @$root/conf/jvm.options; pa=$started
start_tether /tmp/jarB.jar 18081 tb @$root/conf/jvm.options; pb=$started
ck=(); [ "$COOKIE_MODE" = hit ] && ck=(-H "$(cookie_for 18080)")
snap() { jstat -gc "$1" | tail -1 | awk '{print $5, $6, $13}'; } # EC EU YGC (KB)
for port in 18080 18081; do taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d15s "${ck[@]}" http://127.0.0.1:$port/small >/dev/null; done
for round in 1 2 3; do
  for side in a b; do
    if [ $side = a ]; then pid=$pa port=18080; else pid=$pb port=18081; fi
    read ec0 eu0 y0 < <(snap $pid)
    out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d8s "${ck[@]}" http://127.0.0.1:$port/small)
    read ec1 eu1 y1 < <(snap $pid)
    reqs=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    echo "$round $side reqs=$reqs bytes/req=$(python3 -c "print(round(((${y1}-${y0})*${ec0} + ${eu1} - ${eu0})*1024/${reqs}))")"
  done
done
