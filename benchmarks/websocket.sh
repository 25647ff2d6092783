#!/usr/bin/env bash
# WebSocket tunnels, in one run (README.md, "Benchmarks": read the ratios, not the absolute numbers):
#   direct   client → echo upstream
#   haproxy  client → HAProxy 2.6 (http mode, `timeout tunnel`) verifying the same HS256 JWT as
#            ../shared/peers/proxy-haproxy.cfg and injecting X-OpenId → echo upstream
#   gateway  client → the gateway (route with websocket = true) → echo upstream (skipped without a binary)
# Round-trip echoes per second over CONNECTIONS tunnels for DURATION seconds (one 32-byte masked frame in
# flight per tunnel), the proxy's CPU time per message, and the RSS each proxy holds per idle tunnel (0 and
# IDLE_TUNNELS open). Client and upstream are benchmarks/ws_bench.py: raw asyncio on uvloop, no WebSocket
# library, so that on a 2-core machine they leave the CPU to the proxy. Each proxy is first checked: 101 with
# the token's openid injected (a forged X-OpenId replaced), 401 without a token.
#
# usage: benchmarks/websocket.sh [GATEWAY_BINARY]   (default .build/release/gateway, from the project root)
# env:   DURATION (s, default 10)  CONNECTIONS (default 64)  IDLE_TUNNELS (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=${1:-.build/release/gateway}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
idle=${IDLE_TUNNELS:-1000}
peers=${PEERS:-../shared/peers}
secret=peer-bench-secret-0123456789abcdef
openid=oBenchOpenId0000000000000000
bench=benchmarks/ws_bench.py

command -v haproxy >/dev/null || {
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
}
python3 -c 'import uvloop' 2>/dev/null || python3 -m pip install -q uvloop >/dev/null 2>&1 ||
  echo "note: uvloop did not install; client and upstream run on plain asyncio (costlier)"
# Every idle tunnel is a socket in the client, two in each proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo_port=$(port) haproxy_port=$(port) gateway_port=$(port) admin_port=$(port)

cat >"$tmp/haproxy.cfg" <<CONF
global
  maxconn 8192
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend fe
  bind 127.0.0.1:$haproxy_port
  http-request del-header X-OpenId
  http-request deny deny_status 401 unless { req.hdr(authorization) -m beg -i "Bearer " }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
  http-request deny deny_status 401 unless { var(txn.alg) -m str HS256 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify("HS256","$secret") -m int 1 }
  http-request set-var(txn.now) date()
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
  http-request deny deny_status 401 unless { var(txn.exp),sub(txn.now) -m int gt 0 }
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('\$.iss')
  http-request deny deny_status 401 unless { var(txn.iss) -m str gateway }
  http-request set-header X-OpenId %[var(txn.bearer),jwt_payload_query('\$.sub')]
  default_backend app
backend app
  server s1 127.0.0.1:$echo_port
CONF

cat >"$tmp/gateway.conf" <<CONF
[server]
listen = "127.0.0.1:$gateway_port"
admin_listen = "127.0.0.1:$admin_port"
max_connections = 20000
[log]
access_log = false
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "bench"
[tokens]
secret = "$secret"
[store]
url = "sqlite://$tmp/g.db"
[websocket]
max_tunnels = 20000
max_tunnels_per_user = 20000
[[routes]]
prefix = "/"
upstreams = ["http://127.0.0.1:$echo_port"]
auth = "required"
websocket = true
timeout = "0"
CONF

python3 "$bench" echo-server --port "$echo_port" >"$tmp/echo.log" 2>&1 & pids+=($!)
declare -A pid_of=([echo]=$!)
haproxy -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 & pids+=($!)
pid_of[haproxy]=$!
targets=(direct:$echo_port haproxy:$haproxy_port)
if [[ -x $gateway ]]; then
  if ! "$gateway" check --config "$tmp/gateway.conf" >"$tmp/check.log" 2>&1; then
    echo "the gateway refuses the benchmark's config (a binary without WebSocket support?):"; cat "$tmp/check.log"
    exit 1
  fi
  "$gateway" serve --config "$tmp/gateway.conf" >"$tmp/gateway.log" 2>&1 & pids+=($!)
  pid_of[gateway]=$!
  targets+=(gateway:$gateway_port)
else
  echo "note: no gateway binary at $gateway (build it with: swift build -c release); measuring peers only"
fi
for t in "${targets[@]}"; do listening "${t#*:}" || { echo "${t%%:*} did not start"; exit 1; }; done

token=$(python3 "$peers/mint.py" "$secret" "$openid" 3600)
fail=0
for t in "${targets[@]}"; do
  name=${t%%:*} url="ws://127.0.0.1:${t#*:}"
  said=$(python3 "$bench" check --url "$url/whoami" --token "$token" --header "X-OpenId: forged" || true)
  if [[ $name == direct ]]; then
    [[ $said == "101 forged" ]] || { echo "check failed: direct answered '$said'"; fail=1; }
    continue
  fi
  [[ $said == "101 $openid" ]] || { echo "check failed: $name answered '$said' instead of 101 $openid"; fail=1; }
  said=$(python3 "$bench" check --url "$url/echo" || true)
  [[ $said == 401 ]] || { echo "check failed: $name answered '$said' without a token"; fail=1; }
done
((fail == 0)) || { [[ -f $tmp/gateway.log ]] && tail -20 "$tmp/gateway.log"; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

# Memory first, on processes that have carried no load yet: RSS with none and with $idle idle tunnels.
declare -A per_tunnel
for t in "${targets[@]}"; do
  name=${t%%:*}
  [[ $name == direct ]] && continue
  p=${pid_of[$name]}
  before=$(rss_kib "$p")
  : >"$tmp/hold-$name.log"
  python3 "$bench" hold --url "ws://127.0.0.1:${t#*:}/idle" --token "$token" --connections "$idle" \
    >"$tmp/hold-$name.log" 2>&1 &
  holder=$!
  for _ in $(seq 600); do grep -q '^open' "$tmp/hold-$name.log" && break; kill -0 $holder 2>/dev/null || break; sleep 0.1; done
  if ! grep -q "^open $idle" "$tmp/hold-$name.log"; then
    kill $holder 2>/dev/null && status="still running" || { wait $holder && status=0 || status=$?; }
    echo "$name: could not open $idle tunnels (client: $status):"; cat "$tmp/hold-$name.log"
    [[ $name == gateway ]] && tail -5 "$tmp/gateway.log"
    exit 1
  fi
  sleep 1
  after=$(rss_kib "$p")
  # Flat while they stay open: sampled again after IDLE_SECONDS of silence.
  sleep "${IDLE_SECONDS:-10}"
  later=$(rss_kib "$p")
  kill $holder; wait $holder 2>/dev/null || true
  per_tunnel[$name]=$(awk -v a="$before" -v b="$after" -v n="$idle" 'BEGIN { printf "%.1f", (b - a) / n }')
  printf '%-8s rss %6d KiB with 0 tunnels, %6d KiB with %d idle (%d KiB %ss later): %s KiB per tunnel\n' \
    "$name" "$before" "$after" "$idle" "$later" "${IDLE_SECONDS:-10}" "${per_tunnel[$name]}"
done
echo

printf '%-8s %12s %10s %12s %12s\n' target msgs/s cpu/msg client-cpu echo-cpu
declare -A rate cpu
for t in "${targets[@]}"; do
  name=${t%%:*}
  p=${pid_of[$name]:-}
  [[ -n $p ]] && t0=$(ticks "$p")
  e0=$(ticks "${pid_of[echo]}") started=$(date +%s.%N)
  out=$(python3 "$bench" client --url "ws://127.0.0.1:${t#*:}/echo" --token "$token" \
    --connections "$connections" --duration "$duration" 2>"$tmp/client.err") ||
    { echo "$name: the client failed:"; cat "$tmp/client.err"; exit 1; }
  field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$out" "$1"; }
  r=$(field msgs_per_s) n=$(field messages)
  rate[$name]=$r
  us=-
  if [[ $name != direct ]]; then
    us=$(awk -v a="$t0" -v b="$(ticks "$p")" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1fus", (b - a) / hz * 1e6 / n }')
    cpu[$name]=${us%us}
  fi
  # Were the ends cheap enough to leave the proxy room? Their CPU, in percent of one core.
  client_pct=$(awk -v s="$(field cpu_share)" 'BEGIN { printf "%.0f%%", s * 100 }')
  echo_pct=$(awk -v a="$e0" -v b="$(ticks "${pid_of[echo]}")" -v hz="$hz" -v t0="$started" -v t1="$(date +%s.%N)" \
    'BEGIN { printf "%.0f%%", (b - a) / hz / (t1 - t0) * 100 }')
  printf '%-8s %12s %10s %12s %12s\n' "$name" "$r" "$us" "$client_pct" "$echo_pct"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "ratio haproxy/direct: $(ratio "${rate[haproxy]}" "${rate[direct]}")"
if [[ -n ${rate[gateway]:-} ]]; then
  echo "ratio gateway/haproxy msgs/s: $(ratio "${rate[gateway]}" "${rate[haproxy]}")"
  echo "cpu per message gateway/haproxy: $(ratio "${cpu[gateway]}" "${cpu[haproxy]}")"
  echo "rss per idle tunnel gateway/haproxy: $(ratio "${per_tunnel[gateway]}" "${per_tunnel[haproxy]}")"
fi
