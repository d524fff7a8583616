#!/usr/bin/env bash
# bench/tls.sh: HTTPS and HTTP/2 through Tether next to nginx, with the same certificate, interleaved.
#
# What it does: makes a TEST-ONLY RSA-2048 certificate (in a temp dir, deleted at exit), starts two nginx backends
# (127.0.0.1:18101/18102: /small a 15-byte `return 200`, /1m a 1 MiB static file), then the proxies under test,
# each on one core (taskset PROXY_CPU; nginx one worker; Tether workers: 1 and -XX:ActiveProcessorCount=1),
# terminating TLS 1.2/1.3 and proxying round robin to both backends over HTTP/1.1 keep-alive:
#   nginx           18143  http2 on, ssl_session_cache shared, the Mozilla intermediate ciphers
#   tether-openssl  18144  tls.engine: openssl (BoringSSL through netty-tcnative)
#   tether-jdk      18145  tls.engine: jdk (the JDK's SSLEngine)
# and measures, interleaved (every round runs every target once per scenario, the order rotated each round):
#   handshakes  wrk -H "Connection: close" /small: a new TLS connection (full handshake) per request
#   https       wrk keep-alive /small: HTTPS requests per second
#   bytes       wrk keep-alive, 10 connections, /1m: bytes per second of response bodies
#   h2          h2load -c 10 -m 10 /small over h2 (ALPN): requests per second
# Each figure is also divided by the proxy's own CPU time in the run (user + system of its processes, from /proc):
# "per proxy CPU second" is what one core of it does, and holds on a shared machine better than a wall-clock rate.
# Load and backends run on LOAD_CPU. Before each run the script waits (up to QUIET_WAIT=60 s) for the machine to be
# under QUIET_MAX=15 % busy, and records what it saw. Ratios: each target's figure divided by nginx's in the same
# round; the summary gives medians over the rounds and each round's ratio, since this machine is shared.
#
# Usage: bench/tls.sh   (ROUNDS=3 DURATION=5 CONNS=50 JVM_WARMUP=20 PROXY_CPU=0 LOAD_CPU=1 TARGETS="..."
#                        SCENARIOS="handshakes https bytes h2")
# Output: bench/results/<date>-tls/: results.csv (one row per run), summary.md, env.txt, raw-*.txt, conf/.
# Everything is on 127.0.0.1, ports 18100-18199; only the processes this script started are stopped, by PID.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
JVM_WARMUP=${JVM_WARMUP:-20}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TARGETS=${TARGETS:-"nginx tether-openssl tether-jdk"}
SCENARIOS=${SCENARIOS:-"handshakes https bytes h2"}
JAVA=${JAVA:-java}
OUT_DIR=${OUT_DIR:-$here/results/$(date +%Y%m%d)-tls}

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for bin in nginx wrk h2load openssl curl taskset python3; do
  command -v "$bin" >/dev/null || die "$bin not found (apt-get install -y nginx wrk nghttp2-client openssl curl)"
done
[ -f "$root/target/tether.jar" ] || (cd "$root" && mvn -B -q package -DskipTests) || die "build failed"

RUN=$(mktemp -d /tmp/bench-tls-XXXXXX)
chmod 755 "$RUN"
mkdir -p "$OUT_DIR" "$RUN/www" "$RUN/tmp"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  mkdir -p "$OUT_DIR/conf"
  cp "$RUN"/*.conf "$RUN"/*.yaml "$OUT_DIR/conf/" 2>/dev/null
  rm -rf "$RUN" # the test-only key goes with it
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PID_OF
start_bg() { # start_bg NAME CPU CMD...
  local name=$1 cpu=$2
  shift 2
  taskset -c "$cpu" "$@" >"$RUN/$name.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$name]=$!
}
wait_port() {
  for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done
  tail -20 "$RUN"/*.log >&2
  die "nothing listens on $1"
}

# ---------------------------------------------------------------- certificate (TEST-ONLY, deleted at exit)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/bench.key" -out "$RUN/bench.crt" -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || die "openssl req"
head -c 1048576 /dev/urandom >"$RUN/www/1m"

common() {
  cat <<CONF
worker_processes 1;
worker_rlimit_nofile 16384;
pid $RUN/$1.pid;
error_log $RUN/$1.error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000;
  client_body_temp_path $RUN/tmp/$1-body;
  proxy_temp_path $RUN/tmp/$1-proxy;
  fastcgi_temp_path $RUN/tmp/$1-fastcgi;
  uwsgi_temp_path $RUN/tmp/$1-uwsgi;
  scgi_temp_path $RUN/tmp/$1-scgi;
CONF
}
for b in 1 2; do
  {
    common "b$b"
    cat <<CONF
  sendfile on;
  server {
    listen 127.0.0.1:1810$b backlog=4096;
    location = /1m { root $RUN/www; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "backend b$b ok\n"; }
  }
}
CONF
  } >"$RUN/b$b.conf"
  start_bg "b$b" "$LOAD_CPU" nginx -p "$RUN" -e "$RUN/b$b.error.log" -c "$RUN/b$b.conf" -g 'daemon off;'
done
CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
CIPHERS+=":ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
CIPHERS+=":DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
{
  common nginx
  cat <<CONF
  upstream backends { server 127.0.0.1:18101; server 127.0.0.1:18102; keepalive 1024; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:18143 ssl http2 backlog=4096;
    ssl_certificate $RUN/bench.crt;
    ssl_certificate_key $RUN/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
    }
  }
}
CONF
} >"$RUN/nginx.conf"

port_of() { case $1 in nginx) echo 18143 ;; tether-openssl) echo 18144 ;; tether-jdk) echo 18145 ;; esac; }
for t in $TARGETS; do
  case $t in
    nginx) start_bg nginx "$PROXY_CPU" nginx -p "$RUN" -e "$RUN/nginx.error.log" -c "$RUN/nginx.conf" -g 'daemon off;' ;;
    tether-openssl | tether-jdk)
      cat >"$RUN/$t.yaml" <<CONF
listen: [{address: 127.0.0.1, port: $(port_of "$t"), tls: {cert: $RUN/bench.crt, key: $RUN/bench.key, engine: ${t#tether-}}}]
admin: {enabled: false}
workers: 1
access_log: {enabled: false}
upstreams:
  app:
    balance: round_robin
    servers:
      - {name: b1, address: "127.0.0.1:18101"}
      - {name: b2, address: "127.0.0.1:18102"}
CONF
      start_bg "$t" "$PROXY_CPU" "$JAVA" -XX:ActiveProcessorCount=1 -Xmx512m -jar "$root/target/tether.jar" \
        --config "$RUN/$t.yaml" ;;
    *) die "unknown target $t" ;;
  esac
done
for t in $TARGETS; do wait_port "$(port_of "$t")"; done
wait_port 18101
wait_port 18102

{
  echo "date: $(date -Is)"; uname -srm; echo "nproc: $(nproc)"; grep -m1 'model name' /proc/cpuinfo
  nginx -v 2>&1; "$JAVA" -version 2>&1 | head -1; wrk --version 2>&1 | head -1; h2load --version | head -1
  openssl version
  for t in $TARGETS; do
    echo "sanity $t: $(curl -sk --http2 -o /dev/null -w 'HTTP/%{http_version} %{http_code}' "https://127.0.0.1:$(port_of "$t")/small")"
    [[ $t == tether-* ]] && grep -m1 "listening on" "$RUN/$t.log"
  done
} >"$OUT_DIR/env.txt" 2>&1
cat "$OUT_DIR/env.txt" >&2

# ---------------------------------------------------------------- runs
QUIET_MAX=${QUIET_MAX:-15}
QUIET_WAIT=${QUIET_WAIT:-60}
busy() { # the whole machine's busy %, over one second
  local a b
  read -r -a a < <(head -1 /proc/stat)
  sleep 1
  read -r -a b < <(head -1 /proc/stat)
  local idle=$(( b[4] + b[5] - a[4] - a[5] )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 - 100 * idle / total : 0 ))
}
quiet() { # waits up to QUIET_WAIT s for the machine (other programs: nothing of ours runs now) to be under QUIET_MAX %
  local waited=0 b
  b=$(busy)
  while (( b > QUIET_MAX && waited < QUIET_WAIT )); do sleep 2; waited=$(( waited + 3 )); b=$(busy); done
  echo "$b"
}
pids_of() { # the target's processes: nginx's master and worker, Tether's JVM
  local pid=${PID_OF[$1]}
  echo "$pid $(ps -o pid= --ppid "$pid" | tr '\n' ' ')"
}
cpu_ticks() { # user+system clock ticks used so far by the target's processes (all threads)
  local sum=0 pid f
  for pid in $(pids_of "$1"); do
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    sum=$(( sum + f[11] + f[12] ))
  done
  echo $sum
}
TICKS=$(getconf CLK_TCK)
run() { # run SCENARIO TARGET SECONDS: prints "per_second count proxy_cpu_seconds"
  local s=$1 t=$2 d=$3 url out count before after
  url="https://127.0.0.1:$(port_of "$2")"
  before=$(cpu_ticks "$t")
  case $s in
    handshakes) out=$(taskset -c "$LOAD_CPU" wrk -t1 -c "$CONNS" -d "${d}s" -H "Connection: close" "$url/small" 2>&1)
      count=$(awk '/requests in/ {print $1}' <<<"$out") ;;
    https) out=$(taskset -c "$LOAD_CPU" wrk -t1 -c "$CONNS" -d "${d}s" "$url/small" 2>&1)
      count=$(awk '/requests in/ {print $1}' <<<"$out") ;;
    bytes) out=$(taskset -c "$LOAD_CPU" wrk -t1 -c 10 -d "${d}s" "$url/1m" 2>&1)
      count=$(awk '/requests in/ {print $1 * 1048576}' <<<"$out") ;;
    h2) out=$(taskset -c "$LOAD_CPU" h2load -c 10 -m 10 -D "$d" "$url/small" 2>&1)
      count=$(awk '/^requests:/ {print $8}' <<<"$out") ;;
  esac
  after=$(cpu_ticks "$t")
  printf '%s\n' "$out" >>"$OUT_DIR/raw-$s-$t.txt"
  awk -v c="${count:-0}" -v d="$d" -v t=$(( after - before )) -v hz="$TICKS" \
    'BEGIN {printf "%.1f %.0f %.2f\n", c / d, c, t / hz}'
}

for t in $TARGETS; do
  [[ $t == tether-* ]] || continue
  log "JVM warm-up $t (${JVM_WARMUP}s + 10s)"
  run https "$t" "$JVM_WARMUP" >/dev/null
  run h2 "$t" 5 >/dev/null
  run handshakes "$t" 5 >/dev/null
done
rm -f "$OUT_DIR"/raw-*.txt
echo "round,scenario,target,per_second,count,proxy_cpu_s,per_cpu_second,busy_before" >"$OUT_DIR/results.csv"
read -r -a order <<<"$TARGETS"
for (( r=1; r<=ROUNDS; r++ )); do
  for s in $SCENARIOS; do
    for t in "${order[@]}"; do
      q=$(quiet)
      read -r v n cpu < <(run "$s" "$t" "$DURATION")
      pc=$(awk -v n="$n" -v c="$cpu" 'BEGIN {printf "%.1f", (c > 0 ? n / c : 0)}')
      log "round $r $s $t: $v/s, $pc per proxy CPU second (machine ${q}% busy before)"
      echo "$r,$s,$t,$v,$n,$cpu,$pc,$q" >>"$OUT_DIR/results.csv"
    done
  done
  order=("${order[@]:1}" "${order[0]}")
done

python3 - "$OUT_DIR/results.csv" "$TARGETS" >"$OUT_DIR/summary.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
targets = sys.argv[2].split()
scen = []
for r in rows:
    if r["scenario"] not in scen:
        scen.append(r["scenario"])
# per proxy CPU second: what one core of proxy does, whatever else the shared machine was doing
val = {(r["round"], r["scenario"], r["target"]): float(r["per_cpu_second"] or 0) for r in rows}
wall = {(r["round"], r["scenario"], r["target"]): float(r["per_second"] or 0) for r in rows}
rounds = sorted({r["round"] for r in rows})
unit = {"handshakes": "new TLS connections/s (full handshake + 1 request)", "https": "req/s (HTTP/1.1 keep-alive)",
        "bytes": "MiB/s of 1 MiB bodies", "h2": "req/s (h2, 10 conns x 10 streams)"}
print("# HTTPS and HTTP/2, per second of proxy CPU (one core each; medians over %d rounds)\n" % len(rounds))
print("Figures are what the proxy did per second of its own CPU time (user + system, all its threads), which")
print("holds on a shared machine better than wall-clock rates; wall-clock medians are in the second table.\n")
print("| scenario | " + " | ".join(targets) + " |")
print("|---|" + "---:|" * len(targets))
for s in scen:
    cells = []
    for t in targets:
        v = statistics.median(val[(r, s, t)] for r in rounds if (r, s, t) in val)
        cells.append("%.1f" % (v / 1048576) if s == "bytes" else "%.0f" % v)
    print("| %s: %s | %s |" % (s, unit.get(s, ""), " | ".join(cells)))
print("\n| wall clock | " + " | ".join(targets) + " |")
print("|---|" + "---:|" * len(targets))
for s in scen:
    cells = []
    for t in targets:
        v = statistics.median(wall[(r, s, t)] for r in rounds if (r, s, t) in wall)
        cells.append("%.1f" % (v / 1048576) if s == "bytes" else "%.0f" % v)
    print("| %s | %s |" % (s, " | ".join(cells)))
if "nginx" in targets and len(targets) > 1:
    print("\n## Ratios to nginx in the same round: median (each round)\n")
    print("| scenario | " + " | ".join(t for t in targets if t != "nginx") + " |")
    print("|---|" + "---:|" * (len(targets) - 1))
    for s in scen:
        cells = []
        for t in targets:
            if t == "nginx":
                continue
            ratios = [val[(r, s, t)] / val[(r, s, "nginx")] for r in rounds
                      if (r, s, t) in val and val.get((r, s, "nginx"))]
            cells.append(("%.2f (%s)" % (statistics.median(ratios), " ".join("%.2f" % x for x in ratios)))
                         if ratios else "-")
        print("| %s | %s |" % (s, " | ".join(cells)))
if "tether-openssl" in targets and "tether-jdk" in targets:
    print("\n## Tether's engines: openssl / jdk in the same round: median (each round)\n")
    for s in scen:
        ratios = [val[(r, s, "tether-openssl")] / val[(r, s, "tether-jdk")] for r in rounds
                  if val.get((r, s, "tether-jdk"))]
        print("- %s: %.2f (%s)" % (s, statistics.median(ratios), " ".join("%.2f" % x for x in ratios)))
PY
cat "$OUT_DIR/summary.md"
