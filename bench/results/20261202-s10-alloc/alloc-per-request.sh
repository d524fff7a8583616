#!/usr/bin/env bash
# allocab.sh JAR...: bytes allocated per request (young collections x eden + eden delta) in a 10 s wrk run, hit mode
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
source $root/bench/lib.sh
start_backends
port=18095
for jar in "$@"; do
  for mode in new hit; do
    start_tether $jar $port t @$root/conf/jvm.options
    pid=$started
    cookie=()
    [ $mode = hit ] && cookie=(-H "$(cookie_for $port)")
    taskset -c $LOAD_CPU wrk -t1 -c50 -d15s "${cookie[@]}" http://127.0.0.1:$port/small >/dev/null
    s0=$(jstat -gc $pid | tail -1)
    out=$(taskset -c $LOAD_CPU wrk -t1 -c50 -d10s "${cookie[@]}" http://127.0.0.1:$port/small)
    s1=$(jstat -gc $pid | tail -1)
    reqs=$(echo "$out" | awk '/requests in/{print $1}')
    python3 - "$s0" "$s1" "$reqs" "$jar" "$mode" <<'PY'
import sys
h="S0C S1C S0U S1U EC EU OC OU MC MU CCSC CCSU YGC YGCT FGC FGCT CGC CGCT GCT".split()
a=dict(zip(h,sys.argv[1].split())); b=dict(zip(h,sys.argv[2].split()))
ygc=int(b['YGC'])-int(a['YGC']); ec=float(b['EC'])
alloc=(ygc*ec+float(b['EU'])-float(a['EU']))*1024
print("%s %s: %d requests, %d young GCs, %.0f bytes/request" % (sys.argv[4].split('/')[-1], sys.argv[5], int(sys.argv[3]), ygc, alloc/int(sys.argv[3])))
PY
    kill $pid; wait $pid 2>/dev/null || true
    port=$((port+1))
  done
done
