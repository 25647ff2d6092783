#!/usr/bin/env bash
# Memory of the gateway under load (issue 6): peak RSS during 256-connection wrk load, RSS growth between
# minute 1 and the end of the run (a leak per request would show), and RSS growth while 1 GiB is uploaded
# and 1 GiB downloaded through the gateway (bodies must stream, never be buffered whole).
#
# usage: benchmarks/memory.sh [GATEWAY_BINARY]
# env:   SOAK_SECONDS (default 300; 60 is enough for the peak)  CONNECTIONS (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=${1:-.build/release/gateway}
soak=${SOAK_SECONDS:-300}
connections=${CONNECTIONS:-256}
peers=${PEERS:-../shared/peers}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# Upstream: nginx answering small JSON on /, serving a 1 GiB sparse file on /big, swallowing uploads on /upload.
truncate -s 1G "$tmp/big"
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/nginx.err;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000; client_max_body_size 2g; client_body_temp_path $tmp;
  server {
    listen 127.0.0.1:9011;
    location = /big { alias $tmp/big; }
    location = /upload { client_body_buffer_size 64k; proxy_pass http://127.0.0.1:9011/sink; }
    location = /sink { return 200 "ok\n"; }
    location / { default_type application/json; return 200 "{\"openid\":\"\$http_x_openid\"}\n"; }
  }
}
CONF
nginx -c "$tmp/nginx.conf" & pids+=($!)

cat >"$tmp/gateway.conf" <<CONF
[server]
listen = "127.0.0.1:9014"
admin_listen = "127.0.0.1:9915"
max_body_bytes = "2GiB"
[log]
access_log = false
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "bench"
[tokens]
secret = "peer-bench-secret-0123456789abcdef"
[store]
url = "sqlite://$tmp/g.db"
[[routes]]
prefix = "/"
upstreams = ["http://127.0.0.1:9011"]
timeout = "0"
CONF
"$gateway" serve --config "$tmp/gateway.conf" 2>"$tmp/gateway.err" & gw=$!; pids+=($gw)
token=$(python3 "$peers/mint.py" peer-bench-secret-0123456789abcdef oMemoryOpenId 3600)
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9014/ && break; sleep 0.1; done

start=$(rss_kib $gw)
echo "rss at start: $((start / 1024)) MiB"
wrk -t1 -c"$connections" -d60s -H "Authorization: Bearer $token" http://127.0.0.1:9014/ >/dev/null
minute1=$(rss_kib $gw)
echo "rss after 60 s at $connections connections: $((minute1 / 1024)) MiB (peak $(( $(hwm_kib $gw) / 1024 )) MiB)"
if ((soak > 60)); then
  wrk -t1 -c"$connections" -d$((soak - 60))s -H "Authorization: Bearer $token" http://127.0.0.1:9014/ >/dev/null
  end=$(rss_kib $gw)
  echo "rss after ${soak} s: $((end / 1024)) MiB (growth since minute 1: $(((end - minute1) / 1024)) MiB)"
fi

before=$(rss_kib $gw)
echo 3 >/proc/self/clear_refs 2>/dev/null || true
curl -s -o /dev/null -w 'download: %{http_code} %{size_download} bytes\n' -H "Authorization: Bearer $token" \
  http://127.0.0.1:9014/big
head -c 1073741824 /dev/zero | curl -s -o /dev/null -w 'upload: %{http_code} %{size_upload} bytes\n' \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' -T - http://127.0.0.1:9014/upload
after=$(rss_kib $gw)
echo "rss growth over 1 GiB down + 1 GiB up: $(((after - before) / 1024)) MiB (peak now $(( $(hwm_kib $gw) / 1024 )) MiB)"
