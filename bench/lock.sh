# Source it: one load run at a time on this machine (two would measure each other). Takes /tmp/tether-bench.lock,
# or reuses a descriptor of it inherited from `flock /tmp/tether-bench.lock <command>` or from a bench script that
# took it, so that nesting (bench/run.sh -> bench/memory.sh, or run.sh under flock) does not wait for itself.
tether_bench_lock() {
  local fd
  for fd in /proc/$$/fd/*; do
    if [ "$(readlink "$fd" 2>/dev/null)" = /tmp/tether-bench.lock ]; then
      flock "${fd##*/}" && return
    fi
  done
  exec 9>>/tmp/tether-bench.lock
  flock 9
}
tether_bench_lock
