#!/usr/bin/env bash
# bench/gzip.sh: the CPU cost of on-the-fly gzip, Tether next to nginx's `gzip on`, one core of proxy each.
#
# ../shared/bench/compare.sh serves fixed bodies without Accept-Encoding, so it cannot measure compression; this
# script follows its method on a smaller scale. A backend nginx (on LOAD_CPU, with wrk) serves a 5.6 KB HTML page
# (the issue's example) at /page.html and /plain/page.html. In front of it, each pinned to PROXY_CPU:
#   nginx   one worker, keepalive 1024 upstream; `gzip on; gzip_comp_level LEVEL; gzip_min_length 1024;
#           gzip_types text/html ...; gzip_proxied any; gzip_vary on` for /, `gzip off` for /plain/
#   tether  java -XX:ActiveProcessorCount=1 -jar target/tether.jar run (workers: 1); compression {gzip: true,
#           level: LEVEL} at the top level, and a route /plain/ with {gzip: false}
# so there are four targets: {nginx,tether} x {gzip,plain}. Every wrk run sends `Accept-Encoding: gzip`; rounds
# are interleaved (every target once per round, the order rotated each round) so that load from elsewhere on this
# shared machine hits all alike. Per run: req/s, and the proxy's CPU time (utime+stime from /proc, all threads)
# per request. The summary gives, per round then as a median: Tether's req/s and CPU per request as ratios to
# nginx's for the same kind of response, and what gzip itself costs each (CPU per gzipped request minus CPU per
# plain one).
#
# Usage: bench/gzip.sh    (settings from the environment)
#   LEVEL=5 ROUNDS=3 DURATION=8 CONNS=50 WARMUP=3 JVM_WARMUP=20 PROXY_CPU=0 LOAD_CPU=1
#   OUT_DIR (default bench/results/<date>-gzip)  BASE_PORT=18600  ACCESS_LOG=1 (Tether's, to conf/access.log)
#   RESPONSE_HEADER=2s (Tether's timeouts.response_header; its default 30s keeps ~3.5 KB per request alive for 30 s)
# Everything listens on 127.0.0.1, BASE_PORT+1 (backend), +10 (nginx), +20 (tether); a port already taken (another
# bench on this shared machine) stops the script. Only processes this script started are stopped, by PID.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LEVEL=${LEVEL:-5}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-50}
WARMUP=${WARMUP:-3}
JVM_WARMUP=${JVM_WARMUP:-20}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT_DIR=${OUT_DIR:-$root/bench/results/$(date +%Y%m%d)-gzip}
BASE_PORT=${BASE_PORT:-18600}
BACKEND_PORT=$(( BASE_PORT + 1 ))
NGINX_PORT=$(( BASE_PORT + 10 ))
TETHER_PORT=$(( BASE_PORT + 20 ))
TYPES="text/html text/css text/plain text/xml text/javascript application/javascript application/json application/xml image/svg+xml"

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for bin in nginx wrk curl taskset python3 java; do
  command -v "$bin" >/dev/null || die "$bin not found (apt-get install -y nginx wrk curl util-linux)"
done
[[ -f $root/target/tether.jar ]] || (cd "$root" && mvn -B -q package -DskipTests) || die "build failed"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $BACKEND_PORT $NGINX_PORT $TETHER_PORT; do
  port_busy "$port" && die "port $port is already in use (set BASE_PORT)"
done

RUN_DIR=$(mktemp -d /tmp/bench-gzip-XXXXXX)
chmod 755 "$RUN_DIR"
mkdir -p "$OUT_DIR" "$RUN_DIR/www/plain" "$RUN_DIR/tmp"
STARTED_PIDS=()
declare -A PID_OF

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  mkdir -p "$OUT_DIR/conf"
  cp "$RUN_DIR"/*.conf "$RUN_DIR"/*.yaml "$RUN_DIR"/*.log "$OUT_DIR/conf/" 2>/dev/null
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { # start_bg NAME CPU CMD...
  local name=$1 cpu=$2
  shift 2
  taskset -c "$cpu" "$@" >"$RUN_DIR/$name.log" 2>&1 &
  PID_OF[$name]=$!
  STARTED_PIDS+=($!)
}

wait_port() {
  local name=$1 port=$2 i
  for (( i=0; i<150; i++ )); do
    port_busy "$port" && return 0
    kill -0 "${PID_OF[$name]}" 2>/dev/null || { tail -20 "$RUN_DIR/$name.log" >&2; die "$name exited at start"; }
    sleep 0.2
  done
  die "$name did not listen on $port"
}

# the proxy's CPU time so far, in clock ticks: the process and its children (nginx's worker), every thread
cpu_ticks() {
  local pid=$1 sum=0 p
  for p in $pid $(ps -o pid= --ppid "$pid"); do
    sum=$(( sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo $sum
}

# ---------------------------------------------------------------- the page: ~5.6 KB of HTML, as a PHP app's
python3 - "$RUN_DIR/www/page.html" <<'EOF'
import sys
b = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Orders</title>'
     '<link rel="stylesheet" href="/app.css"></head>\n<body><table class="orders">\n']
i = 0
while sum(map(len, b)) < 5500:
    b.append('<tr><td class="id">%d</td><td class="name">Customer %d</td><td class="status">%s</td></tr>\n'
             % (1000 + i * 7, i * 31 % 97, "shipped" if i % 3 == 0 else "open"))
    i += 1
b.append("</table></body></html>\n")
open(sys.argv[1], "w").write("".join(b))
EOF
cp "$RUN_DIR/www/page.html" "$RUN_DIR/www/plain/page.html"
chmod -R a+rX "$RUN_DIR/www"
PAGE_SIZE=$(stat -c %s "$RUN_DIR/www/page.html")

common() {
  cat <<EOF
worker_processes 1;
pid $RUN_DIR/$1.pid;
error_log $RUN_DIR/$1.error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000;
  client_body_temp_path $RUN_DIR/tmp/$1-body;
  proxy_temp_path $RUN_DIR/tmp/$1-proxy;
  fastcgi_temp_path $RUN_DIR/tmp/$1-fastcgi;
  uwsgi_temp_path $RUN_DIR/tmp/$1-uwsgi;
  scgi_temp_path $RUN_DIR/tmp/$1-scgi;
EOF
}
{ common backend; cat <<EOF
  open_file_cache max=16 inactive=600s;
  server {
    listen 127.0.0.1:$BACKEND_PORT backlog=4096;
    root $RUN_DIR/www;
    default_type text/html;
  }
}
EOF
} >"$RUN_DIR/backend.conf"
{ common nginx; cat <<EOF
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 1024; keepalive_requests 1000000; }
  gzip on;
  gzip_comp_level $LEVEL;
  gzip_min_length 1024;
  gzip_proxied any;
  gzip_vary on;
  gzip_types ${TYPES#text/html };  # text/html is always in nginx's list
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /plain/ { gzip off; proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
} >"$RUN_DIR/nginx.conf"
cat >"$RUN_DIR/tether.yaml" <<EOF
listen: [{address: 127.0.0.1, port: $TETHER_PORT}]
admin: {enabled: false}
workers: 1
# each request's response timer lives on for response_header after the request (issue noted in the results):
# 2s keeps the heap Tether carries under load small, so the run measures compression, not garbage collection
timeouts: {response_header: ${RESPONSE_HEADER:-2s}}
access_log: $( [[ -n ${ACCESS_LOG:-} ]] && echo "{enabled: true, path: $RUN_DIR/access.log}" || echo "{enabled: false}")
upstreams:
  app:
    pool_size: 1024
    servers: [{name: b, address: "127.0.0.1:$BACKEND_PORT"}]
    sticky: {mode: none}
compression: {gzip: true, level: $LEVEL, min_length: 1024, types: [$(sed 's/ /, /g' <<<"$TYPES")]}
routes:
  - {path: /plain/, upstream: app, compression: {gzip: false}}
  - {path: /, upstream: app}
EOF

start_bg backend "$LOAD_CPU" nginx -p "$RUN_DIR" -e "$RUN_DIR/backend.error.log" -c "$RUN_DIR/backend.conf" -g 'daemon off;'
wait_port backend $BACKEND_PORT
start_bg nginx "$PROXY_CPU" nginx -p "$RUN_DIR" -e "$RUN_DIR/nginx.error.log" -c "$RUN_DIR/nginx.conf" -g 'daemon off;'
wait_port nginx $NGINX_PORT
start_bg tether "$PROXY_CPU" java -XX:ActiveProcessorCount=1 -jar "$root/target/tether.jar" run --config "$RUN_DIR/tether.yaml"
wait_port tether $TETHER_PORT

declare -A URL=([nginx-gzip]="http://127.0.0.1:$NGINX_PORT/page.html"
  [nginx-plain]="http://127.0.0.1:$NGINX_PORT/plain/page.html"
  [tether-gzip]="http://127.0.0.1:$TETHER_PORT/page.html"
  [tether-plain]="http://127.0.0.1:$TETHER_PORT/plain/page.html")
TARGETS=(nginx-gzip tether-gzip nginx-plain tether-plain)

# ---------------------------------------------------------------- sanity: gzip where expected, the page intact
{
  echo "date: $(date -Is)"
  echo "machine: nproc=$(nproc), $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')"
  echo "loadavg at start: $(cat /proc/loadavg)"
  echo "nginx: $(nginx -v 2>&1); wrk: $(wrk -v 2>&1 | head -1); java: $(java -version 2>&1 | head -1)"
  echo "settings: LEVEL=$LEVEL ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU page=$PAGE_SIZE bytes"
} | tee "$OUT_DIR/env.txt" >&2
for t in "${TARGETS[@]}"; do
  hdrs=$(curl -s -D - -o "$RUN_DIR/body" -H 'Accept-Encoding: gzip' "${URL[$t]}")
  enc=$(awk 'tolower($1) == "content-encoding:" {sub(/\r$/, ""); print $2}' <<<"$hdrs")
  size=$(stat -c %s "$RUN_DIR/body")
  plain=$( [[ $enc == gzip ]] && gzip -dc "$RUN_DIR/body" | wc -c || wc -c <"$RUN_DIR/body")
  echo "$t: content-encoding=${enc:-none} bytes=$size decoded=$plain" | tee -a "$OUT_DIR/sanity.txt" >&2
  [[ $plain == "$PAGE_SIZE" ]] || die "$t: the page did not come back intact"
  [[ $t == *-gzip && $enc == gzip || $t == *-plain && -z $enc ]] || die "$t: unexpected Content-Encoding '$enc'"
done

wrk_run() { # wrk_run TARGET SECONDS -> "requests ticks"
  local t=$1 secs=$2 before after out
  before=$(cpu_ticks "${PID_OF[${t%%-*}]}")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" -H 'Accept-Encoding: gzip' "${URL[$t]}" 2>&1)
  after=$(cpu_ticks "${PID_OF[${t%%-*}]}")
  echo "$out" >>"$OUT_DIR/wrk.log"
  local reqs errs
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  errs=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out")
  [[ -z $errs ]] || log "  $t: $errs"
  echo "${reqs:-0} $(( after - before ))"
}

log "JVM warm-up ${JVM_WARMUP}s (gzip and plain)"
wrk_run tether-gzip $(( JVM_WARMUP / 2 )) >/dev/null
wrk_run tether-plain $(( JVM_WARMUP / 2 )) >/dev/null
for t in "${TARGETS[@]}"; do wrk_run "$t" "$WARMUP" >/dev/null; done

echo "round,target,requests,seconds,rps,cpu_ticks,cpu_us_per_request" >"$OUT_DIR/results.csv"
HZ=$(getconf CLK_TCK)
n=${#TARGETS[@]}
for (( r=1; r<=ROUNDS; r++ )); do
  for (( i=0; i<n; i++ )); do
    t=${TARGETS[(i + r - 1) % n]}
    read -r reqs ticks < <(wrk_run "$t" "$DURATION")
    python3 -c "import sys; r,t,hz,d=map(float,sys.argv[1:]); print('%d,%s,%d,%d,%.1f,%d,%.2f' % ($r,'$t',r,d,r/d,t,(t/hz)*1e6/max(r,1)))" \
      "$reqs" "$ticks" "$HZ" "$DURATION" >>"$OUT_DIR/results.csv"
    log "round $r: $(tail -1 "$OUT_DIR/results.csv")"
  done
done
echo "loadavg at end: $(cat /proc/loadavg)" >>"$OUT_DIR/env.txt"

python3 - "$OUT_DIR" <<'EOF' | tee "$OUT_DIR/summary.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/results.csv")))
by = {}
for r in rows:
    by.setdefault(int(r["round"]), {})[r["target"]] = (float(r["rps"]), float(r["cpu_us_per_request"]))
def med(f):
    return statistics.median(f(v) for v in by.values())
print("| per round median | nginx | tether | tether / nginx |")
print("|---|---:|---:|---:|")
for kind in ("gzip", "plain"):
    n, t = "nginx-" + kind, "tether-" + kind
    print("| req/s, %s | %.0f | %.0f | %.2f |" % (kind, med(lambda v: v[n][0]), med(lambda v: v[t][0]),
                                              med(lambda v: v[t][0] / v[n][0])))
    print("| CPU us/request, %s | %.1f | %.1f | %.2f |" % (kind, med(lambda v: v[n][1]), med(lambda v: v[t][1]),
                                                          med(lambda v: v[t][1] / v[n][1])))
gz = lambda p: (lambda v: v[p + "-gzip"][1] - v[p + "-plain"][1])
print("| gzip's own CPU us/request (gzip - plain) | %.1f | %.1f | %.2f |" % (
    med(gz("nginx")), med(gz("tether")), med(lambda v: gz("tether")(v) / gz("nginx")(v))))
EOF
log "results: $OUT_DIR"
