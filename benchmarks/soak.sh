#!/usr/bin/env bash
# Soak (issue 15): SOAK_MINUTES (default 30) of mixed load on a release build, all on 127.0.0.1 —
#   wrk GETs through the gateway with a valid token; uploads; login → refresh → API call → logout;
#   bad tokens (garbage, expired, forged ES256-shaped); slow clients trickling headers past client_timeout;
#   an upstream route whose upstream drops every connection (the injected fault: its 502s are expected).
# The gateway's RSS and open descriptors are sampled every 10 s into a CSV, plotted to a PNG, then judged:
#   flat RSS and descriptor count after the first minute, no 5xx but the injected ones, /healthz answering.
#
# usage: benchmarks/soak.sh [GATEWAY_BINARY]     (default .build/release/gateway; `make soak` builds it)
# env:   SOAK_MINUTES (30)  SOAK_OUT (benchmarks/results/soak-<date>)  WRK_CONNECTIONS (16)
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=$(realpath "${1:-.build/release/gateway}")
minutes=${SOAK_MINUTES:-30}
out=${SOAK_OUT:-benchmarks/results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(realpath "$out")
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }
upstream_port=$(free_port); drop_port=$(free_port); wechat_port=$(free_port); gw_port=$(free_port); admin_port=$(free_port)

# The upstream: nginx answering small JSON, swallowing uploads.
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/nginx.err;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000; client_max_body_size 16m; client_body_temp_path $tmp;
  server {
    listen 127.0.0.1:$upstream_port;
    location = /api/upload { client_body_buffer_size 64k; proxy_pass http://127.0.0.1:$upstream_port/sink; }
    location = /sink { return 200 "ok\n"; }
    location / { default_type application/json; return 200 "{\"openid\":\"\$http_x_openid\"}\n"; }
  }
}
CONF
nginx -c "$tmp/nginx.conf" & pids+=($!)
# The injected fault: an upstream that reads the request and drops the connection without answering.
python3 - "$drop_port" <<'PY' & pids+=($!)
import socket, sys, threading
server = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=512)
def drop(conn):
    try:
        conn.recv(65536)
    finally:
        conn.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=drop, args=(conn,), daemon=True).start()
PY
"$gateway" mock-wechat --listen "127.0.0.1:$wechat_port" --appid wx0000000000000001 --secret soak-app-secret \
    >"$tmp/wechat.log" 2>&1 & pids+=($!)

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
cat >"$tmp/gateway.conf" <<CONF
[server]
listen = "127.0.0.1:$gw_port"
admin_listen = "127.0.0.1:$admin_port"
client_timeout = "5s"
max_body_bytes = "16MiB"
[log]
access_log = false
[wechat]
api_base = "http://127.0.0.1:$wechat_port"
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "soak-app-secret"
[tokens]
secret = "$secret"
# Every logout keeps two revocation entries until the access token would have expired (access_ttl + leeway).
# With the default 15m tokens and ~100 logouts/s the list only reaches its steady size after ~16 minutes, so a
# 30-minute run mostly watches it fill (the first 30-minute run: 55.6 MiB at minute 1, 113 MiB flat from
# minute 25). Short tokens make it turn over early, so "flat after minute 1" measures leaks. 2m was not short
# enough (the second run: 51.2 MiB at minute 1, 61.5 at minute 4, then +0.1 to 0.2 MiB a minute, 17.4 MiB in all,
# over the 16 MiB bound): entries live access_ttl + leeway, and the list's purge threshold doubles behind it, so
# steady state came after minute 2. 30s + 10s reaches it inside the first minute.
access_ttl = "${SOAK_ACCESS_TTL:-30s}"
leeway = "10s"
[store]
url = "sqlite://$tmp/gateway.db"
[rate_limit]
auth_per_minute = 1000000
auth_burst = 1000000
[[routes]]
prefix = "/api/"
upstreams = ["http://127.0.0.1:$upstream_port"]
[[routes]]
prefix = "/drop/"
upstreams = ["http://127.0.0.1:$drop_port"]
CONF
wait_port "$upstream_port"; wait_port "$drop_port"; wait_port "$wechat_port"
"$gateway" serve --config "$tmp/gateway.conf" 2>"$out/gateway.stderr" & gw=$!; pids+=($gw)
wait_port "$gw_port"; wait_port "$admin_port"
token=$("$gateway" token mint --config "$tmp/gateway.conf" --openid oSoakWrk --ttl 2h)

seconds=$((minutes * 60))
echo "soak: $minutes min, gateway pid $gw, results in $out"
echo "elapsed_s,rss_kib,open_fds" >"$out/samples.csv"
sample() { echo "$1,$(awk '/^VmRSS/ {print $2}' "/proc/$gw/status"),$(ls "/proc/$gw/fd" | wc -l)" >>"$out/samples.csv"; }

wrk -t1 -c"${WRK_CONNECTIONS:-16}" -d"${seconds}s" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$gw_port/api/items" >"$out/wrk.txt" 2>&1 & wrk_pid=$!; pids+=($wrk_pid)
python3 benchmarks/soak_load.py --port "$gw_port" --seconds "$seconds" --token "$token" --out "$out/load.json" \
    >"$out/load.log" 2>&1 & load_pid=$!; pids+=($load_pid)

start=$(date +%s)
while true; do
    now=$(($(date +%s) - start))
    kill -0 "$gw" 2>/dev/null || { echo "FAIL: the gateway exited during the soak"; exit 1; }
    sample "$now"
    [ "$now" -ge "$seconds" ] && break
    sleep 10
done
wait "$wrk_pid" || true
wait "$load_pid" || true
sleep 2
sample "$(($(date +%s) - start))"  # after the load: what is left held
healthz=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$admin_port/healthz" || true)
curl -s --max-time 5 "http://127.0.0.1:$admin_port/metrics" >"$out/metrics.txt" || true
python3 benchmarks/soak_report.py --out "$out" --healthz "$healthz"
