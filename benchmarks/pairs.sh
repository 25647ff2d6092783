#!/usr/bin/env bash
# The gateway against HAProxy in alternating pairs of wrk runs, both proxies running the whole time behind the
# same upstream and the same configuration as ../shared/peers/bench.sh. bench.sh measures its targets one after
# another, so a slow minute on this shared machine lands on one of them only: its ratio swings from 0.5 to 0.9
# for the same binary. Here each pair runs back to back, so each ratio compares like with like, and the median
# over many pairs is what to read. Also prints each proxy's CPU time per request.
#
# usage: benchmarks/pairs.sh [GATEWAY_BINARY]   (from the project root, after a release build)
# env:   PAIRS (default 7)  DURATION (s per run, default 8)  CONNECTIONS (default 64)  PEERS (default ../shared/peers)
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=${1:-.build/release/gateway}
pairs=${PAIRS:-7}
duration=${DURATION:-8}
connections=${CONNECTIONS:-64}
peers=$(cd "${PEERS:-../shared/peers}" && pwd)
path=/api/orders?page=1
for tool in wrk nginx haproxy; do
  command -v "$tool" >/dev/null || { echo "needs $tool (run ../shared/peers/bench.sh once: it installs them)"; exit 1; }
done
[[ -x $gateway ]] || { echo "no release binary at $gateway: run 'swift build -c release' first"; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

rm -f /tmp/gateway-bench.db*
nginx -e "$tmp/upstream.err" -g "pid $tmp/upstream.pid;" -c "$peers/upstream-nginx.conf" & pids+=($!)
haproxy -f "$peers/proxy-haproxy.cfg" >"$tmp/haproxy.log" 2>&1 & haproxy=$!; pids+=($haproxy)
"$gateway" serve --config "$peers/gateway-bench.conf" >"$tmp/gateway.log" 2>&1 & gateway_pid=$!; pids+=($gateway_pid)
token=$(python3 "$peers/mint.py" peer-bench-secret-0123456789abcdef oBenchOpenId0000000000000000 3600)
for port in 9001 9003 9004; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
ticks=$(getconf CLK_TCK)

# One run: requests/s, p99 in ms, CPU microseconds per request of the proxy process.
run() {
  local pid=$1 port=$2 before after out
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v b="$before" -v a="$after" -v t="$ticks" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /requests in/ { r = $1 } /^Requests\/sec/ { s = $2 } $1 == "99%" { p = ms($2) }
    END { printf "%s %.3f %.1f\n", s, p, (a - b) / t * 1e6 / r }' <<<"$out"
}

for port in 9003 9004; do  # warm-up: pooled connections, caches
  wrk -t1 -c"$connections" -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" >/dev/null
done
printf '%-5s %10s %8s %7s | %10s %8s %7s | %6s %6s\n' pair haproxy p99ms us/req gateway p99ms us/req ratio p99x
for i in $(seq "$pairs"); do
  read -r hr hp hc < <(run "$haproxy" 9003)
  read -r gr gp gc < <(run "$gateway_pid" 9004)
  awk -v i="$i" -v hr="$hr" -v hp="$hp" -v hc="$hc" -v gr="$gr" -v gp="$gp" -v gc="$gc" 'BEGIN {
    printf "%-5s %10.0f %8.2f %7.1f | %10.0f %8.2f %7.1f | %6.2f %6.2f\n", i, hr, hp, hc, gr, gp, gc, gr / hr, gp / hp }'
done | tee "$tmp/pairs"
awk '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { n++; r[n] = $(NF - 1); p[n] = $NF }
  END { printf "median over %d pairs: gateway/haproxy requests/s %.2f, p99 %.2f\n", n, median(r, n), median(p, n) }' "$tmp/pairs"
