#!/usr/bin/env bash
# Login and refresh requests/s through the gateway against the WeChat simulator, for each session store.
# Each login spends a fresh code (one jscode2session call and one session insert); each refresh is one
# atomic rotation. The rate limiter is opened wide so it does not cap the measurement. The PostgreSQL run
# starts a real PostgreSQL (Tests/integration/postgres_server.py, durable settings: fsync on) on loopback.
#
# usage: benchmarks/auth.sh [GATEWAY_BINARY]
# env:   DURATION (default 10), STORES (default "sqlite postgres"), POOL_SIZE (PostgreSQL [store] pool_size, default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=${1:-.build/release/gateway}
duration=${DURATION:-10}

if [ -z "${AUTH_BENCH_STORE:-}" ]; then
  for store in ${STORES:-sqlite postgres}; do
    echo "#### store: $store"
    if [ "$store" = postgres ]; then
      AUTH_BENCH_STORE=postgres python3 Tests/integration/postgres_server.py run ${PG_FSYNC---fsync} -- "$0" "$gateway"
    else
      AUTH_BENCH_STORE=sqlite "$0" "$gateway"
    fi
  done
  exit 0
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
sim=$(port) gw=$(port) admin=$(port)
store_settings=""
if [ "$AUTH_BENCH_STORE" = postgres ]; then
  store_url=$GATEWAY_TEST_POSTGRES_URL
  store_settings="pool_size = ${POOL_SIZE:-8}"
else
  store_url="sqlite://$tmp/bench.db"
fi
cat >"$tmp/gw.conf" <<CONF
[server]
listen = "127.0.0.1:$gw"
admin_listen = "127.0.0.1:$admin"
[log]
access_log = false
[wechat]
api_base = "http://127.0.0.1:$sim"
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "bench-secret"
[tokens]
secret = "bench-token-secret-0123456789abcdef"
[store]
url = "$store_url"
$store_settings
[rate_limit]
auth_per_minute = 1000000
auth_burst = 1000000
CONF
"$gateway" mock-wechat --listen "127.0.0.1:$sim" --appid wx0000000000000001 --secret bench-secret >"$tmp/sim.log" 2>&1 &
pids+=($!)
"$gateway" serve --config "$tmp/gw.conf" >/dev/null 2>"$tmp/gw.err" & pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$gw/" && break; sleep 0.1; done
echo "== login through the gateway (fresh code per request)"
wrk -t2 -c16 -d"${duration}s" --latency -s benchmarks/auth/login.lua "http://127.0.0.1:$gw" \
  | grep -E "Requests/sec|50%|99%|Non-2xx"
python3 - "$gw" "$tmp/tokens.txt" <<'PY'
import http.client, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
tokens = []
for i in range(16):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("POST", "/auth/login", json.dumps({"code": f"openid:refresh-bench-{i}"}), {"Content-Type": "application/json"})
    tokens.append(json.loads(c.getresponse().read())["refresh_token"])
open(path, "w").write("\n".join(tokens) + "\n")
PY
echo "== refresh through the gateway (16 rotation chains)"
AUTH_BENCH_TOKENS="$tmp/tokens.txt" wrk -t16 -c16 -d"${duration}s" --latency -s benchmarks/auth/refresh.lua \
  "http://127.0.0.1:$gw" | grep -E "Requests/sec|50%|99%|Non-2xx"
