# Shared by bench/profile.sh and bench/ab.sh: two nginx backends (b1 :18001, b2 :18002; /small 14 bytes, /16k a
# 16384-byte file) pinned to LOAD_CPU, and Tether configurations pinned to PROXY_CPU. Source it; it sets a trap that
# stops what it started, by PID.
PROXY_CPU=${PROXY_CPU:-0} LOAD_CPU=${LOAD_CPU:-1}
# one load run at a time on this machine: two would measure each other
. "$(dirname "${BASH_SOURCE[0]}")/lock.sh"
. "$(dirname "${BASH_SOURCE[0]}")/config.sh"
for tool in nginx wrk curl taskset; do
  command -v "$tool" >/dev/null || { apt-get update -q && apt-get install -y -q nginx wrk curl util-linux; break; }
done
run=$(mktemp -d /tmp/bench-tether.XXXX)
chmod 755 "$run"
mkdir -p "$run/www"
head -c 16384 /dev/zero | tr '\0' 'x' >"$run/www/16k"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$run"; }
trap cleanup EXIT

start_backends() {
  local b
  for b in 1 2; do
    cat >"$run/b$b.conf" <<NGINX
worker_processes 1; pid $run/b$b.pid; error_log $run/b$b.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $run; proxy_temp_path $run; fastcgi_temp_path $run; uwsgi_temp_path $run; scgi_temp_path $run;
  server { listen 127.0.0.1:1800$b backlog=4096;
    location = /16k { root $run/www; default_type application/octet-stream; }
    location = /big { root $run/www; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "backend b$b ok\n"; } } }
NGINX
    taskset -c "$LOAD_CPU" nginx -p "$run" -c "$run/b$b.conf" -g 'daemon off;' &
    pids+=($!)
  done
}

# tether_yaml PORT NAME: the bench's configuration (access log to a file unless TETHER_ACCESS_LOG_ON=false, cookie
# stickiness) in $run/NAME.yaml
tether_yaml() {
  bench_yaml "$1" "access_log: {enabled: ${TETHER_ACCESS_LOG_ON:-true}, format: text, path: $run/$2.access.log}" \
    "sticky: {mode: cookie, cookie: SRV, secret: bench-secret}" >"$run/$2.yaml"
}

# start_tether JAR PORT NAME [JVM options...]: sets $started to the JVM's PID once the port answers
start_tether() {
  tether_yaml "$2" "$3"
  launch_tether "$@"
}

# launch_tether JAR PORT NAME [JVM options...]: start_tether with a $run/NAME.yaml written by the caller
# (TETHER_JAVA: the java command, default java on the PATH)
launch_tether() {
  local jar=$1 port=$2 name=$3
  shift 3
  taskset -c "$PROXY_CPU" "${TETHER_JAVA:-java}" -XX:ActiveProcessorCount=1 "$@" -jar "$jar" run --config "$run/$name.yaml" \
    >"$run/$name.log" 2>&1 &
  started=$!
  pids+=($started)
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.2; done
  cat "$run/$name.log" >&2
  return 1
}

# cookie_for PORT: "Cookie: SRV=..." as the proxy issued it
cookie_for() {
  curl -s -D - -o /dev/null "http://127.0.0.1:$1/" | sed -n 's/^[Ss]et-[Cc]ookie: \(SRV=[^;]*\).*/Cookie: \1/p' | tr -d '\r'
}

# cpu_ticks PID: user+system clock ticks the process used so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
