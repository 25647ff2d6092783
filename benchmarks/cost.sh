#!/usr/bin/env bash
# What one proxied request costs the gateway, measured in ways that hold up on a shared, noisy machine better than
# requests/s: CPU time per request (utime+stime of the gateway process over a wrk run, divided by the requests wrk
# completed); with --syscalls, system calls per request by kind (strace -c on the running gateway, which slows
# it down: read the counts, not the times); with --mallocs, libc malloc calls per request (a perf uprobe: the same
# number run after run, where CPU time on a shared machine swings by a third). The default mode also counts context
# switches per request of all threads, voluntary and involuntary apart (/proc/PID/task/*/status). Compare two binaries by alternating
# runs of each.
#
# usage: benchmarks/cost.sh [--syscalls | --mallocs] [GATEWAY_BINARY...]   (from the project root, after a
#        release build; --mallocs needs root and perf: apt-get install linux-perf)
# env:   CONNECTIONS (default 64)  DURATION (default 8)  PEERS (default ../shared/peers)
set -euo pipefail
cd "$(dirname "$0")/.."
syscalls=false
mallocs=false
if [[ ${1:-} == --syscalls ]]; then syscalls=true; shift; fi
if [[ ${1:-} == --mallocs ]]; then mallocs=true; shift; fi
binaries=("$@")
((${#binaries[@]})) || binaries=(.build/release/gateway)
peers=${PEERS:-../shared/peers}
connections=${CONNECTIONS:-64}
duration=${DURATION:-8}
path=/api/orders?page=1
for tool in wrk nginx; do command -v "$tool" >/dev/null || { echo "needs $tool (run ../shared/peers/bench.sh once, or apt-get install wrk nginx-light)"; exit 1; }; done
if $syscalls; then command -v strace >/dev/null || { echo "needs strace (apt-get install strace)"; exit 1; }; fi
if $mallocs; then
  command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)"; exit 1; }
  libc=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')
  perf probe -l 2>/dev/null | grep -q 'probe_libc:malloc ' || perf probe -q -x "$libc" --add malloc \
    || { echo "cannot add a uprobe on malloc in $libc (needs root)"; exit 1; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# The same upstream and gateway configuration as bench.sh.
nginx -e "$tmp/upstream.err" -g "pid $tmp/upstream.pid;" -c "$(cd "$peers" && pwd)/upstream-nginx.conf" & pids+=($!)
token=$(python3 "$peers/mint.py" peer-bench-secret-0123456789abcdef oBenchOpenId0000000000000000 3600)
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Context switches of every thread of the process: voluntary (a thread blocked, or handed work to another one: what
# the design decides) and involuntary (preempted: what the machine's other load decides, wrk and nginx included).
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk "/^$2_ctxt_switches/ {n += \$2} END {print n + 0}"; }

for binary in "${binaries[@]}"; do
  rm -f /tmp/gateway-bench.db*
  "$binary" serve --config "$peers/gateway-bench.conf" >"$tmp/gateway.log" 2>&1 &
  gateway=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9004/ && break; sleep 0.1; done
  wrk -t1 -c"$connections" -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:9004$path" >/dev/null  # warm-up
  if $mallocs; then
    perf stat -e probe_libc:malloc -p "$gateway" -o "$tmp/perf.out" -- sleep $((duration + 1)) >/dev/null 2>&1 &
    counter=$!
    sleep 0.5
    out=$(wrk -t1 -c"$connections" -d"${duration}s" -H "Authorization: Bearer $token" "http://127.0.0.1:9004$path")
    wait "$counter"
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    calls=$(awk '/probe_libc:malloc/ {gsub(",", "", $1); print $1}' "$tmp/perf.out")
    awk -v c="$calls" -v r="$requests" -v name="$binary" 'BEGIN {
      printf "%s: %.1f malloc calls per request (%d requests)\n", name, c / r, r }'
  elif $syscalls; then
    wrk -t1 -c"$connections" -d"${duration}s" -H "Authorization: Bearer $token" "http://127.0.0.1:9004$path" \
      >"$tmp/wrk.out" &
    load=$!
    sleep 1
    # strace -c on every thread for a few seconds; the per-request counts divide by the sendto calls, libcurl
    # sending one upstream request each, since wrk's own count covers the whole run. (Not by the client-side
    # writes: NIO answers with writev, the engine with write, and the access log writes too.)
    timeout 4 strace -c -f -p "$gateway" -o "$tmp/strace.out" >/dev/null 2>&1 || true
    wait "$load"
    responses=$(awk '$NF == "sendto" {print $4}' "$tmp/strace.out")
    echo "$binary: system calls per response (strace -c, ${responses:-?} responses)"
    awk -v n="${responses:-1}" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      printf "  %-16s %6.2f\n", $NF, $4 / n }' "$tmp/strace.out" | sort -k2 -rn
  else
    before=$(cpu_ticks "$gateway") voluntary=$(switches "$gateway" voluntary)
    involuntary=$(switches "$gateway" nonvoluntary)
    out=$(wrk -t1 -c"$connections" -d"${duration}s" -H "Authorization: Bearer $token" "http://127.0.0.1:9004$path")
    after=$(cpu_ticks "$gateway") voluntary=$(($(switches "$gateway" voluntary) - voluntary))
    involuntary=$(($(switches "$gateway" nonvoluntary) - involuntary))
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    awk -v b="$before" -v a="$after" -v r="$requests" -v t="$ticks" -v d="$duration" -v v="$voluntary" \
      -v i="$involuntary" -v name="$binary" 'BEGIN {
        printf "%s: %.1f us CPU per request (%d requests, %.2f cores)\n", name, (a - b) / t * 1e6 / r, r, (a - b) / t / d
        printf "  context switches per request: %.3f voluntary, %.3f involuntary\n", v / r, i / r }'
  fi
  kill "$gateway"; wait "$gateway" 2>/dev/null || true
done
