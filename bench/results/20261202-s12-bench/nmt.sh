#!/usr/bin/env bash
set -euo pipefail
root=/work/main; here=$root/bench; source "$here/lib.sh"
CONNS=${CONNS:-500} BODY=${BODY:-16k}
start_backends
start_tether "$root/target/tether.jar" 18080 tether @$root/conf/jvm.options -XX:NativeMemoryTracking=summary ${EXTRA:-}
tpid=$started
cookie=(-H "$(cookie_for 18080)")
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d30s "${cookie[@]}" http://127.0.0.1:18080/$BODY >/dev/null
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d15s "${cookie[@]}" http://127.0.0.1:18080/$BODY > /tmp/jit/nmt-wrk.txt &
w=$!
max=0
for i in $(seq 28); do r=$(awk '/VmRSS/{print $2}' /proc/$tpid/status); [ $r -gt $max ] && max=$r; sleep 0.5; done
jcmd $tpid VM.native_memory summary > /tmp/jit/nmt.txt
grep -E "VmRSS|RssAnon|RssFile|RssShmem" /proc/$tpid/status > /tmp/jit/nmt-rss.txt
wait $w
echo "max RSS KiB $max" >> /tmp/jit/nmt-rss.txt
