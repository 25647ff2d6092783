#!/usr/bin/env bash
# CurlHTTP benchmark (not a test): requests/s and CPU time of CurlHTTP against a minimal C program driving curl multi
# the same way, both against the same local nginx, in alternating rounds; then peak RSS while 512 MiB go up and
# 512 MiB come down through CurlHTTP at once. Read ratios, not absolute numbers: the machines are shared and noisy.
#
#   benchmarks/curlhttp/run.sh [ROUNDS] [CONCURRENCY] [REQUESTS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-5}"
concurrency="${2:-64}"
requests="${3:-50000}"
port=18931
scratch="$(mktemp -d)"
chmod 755 "$scratch"   # nginx workers run as an unprivileged user
trap 'kill "$(cat "$scratch/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$scratch"' EXIT

cc -O2 -Wall -Wextra -o "$scratch/multi_bench" "$here/multi_bench.c" -lcurl
swift build -c release --package-path "$here" >/dev/null
bench="$(swift build -c release --package-path "$here" --show-bin-path)/curlhttp-bench"

mkdir -p "$scratch/files"
truncate -s 512M "$scratch/files/big"
nginx -p "$scratch" -c "$here/nginx.conf" >"$scratch/nginx.log" 2>&1 &
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

url="http://127.0.0.1:$port/"
"$scratch/multi_bench" "$url" "$concurrency" 5000 >/dev/null   # warm up
"$bench" "$url" "$concurrency" 5000 >/dev/null
c_rates=(); s_rates=(); c_cpu=(); s_cpu=()
for round in $(seq "$rounds"); do
    for side in c swift; do
        if [ "$side" = c ]; then cmd=("$scratch/multi_bench" "$url" "$concurrency" "$requests")
        else cmd=("$bench" "$url" "$concurrency" "$requests"); fi
        out="$(/usr/bin/time -f 'cpu %U %S' "${cmd[@]}" 2>&1)"
        rate="$(grep -o '= [0-9]* req/s' <<<"$out" | grep -o '[0-9]*')"
        cpu="$(awk '/^cpu/ {print $2 + $3}' <<<"$out")"
        echo "round $round $side: $rate req/s, ${cpu}s CPU"
        if [ "$side" = c ]; then c_rates+=("$rate"); c_cpu+=("$cpu"); else s_rates+=("$rate"); s_cpu+=("$cpu"); fi
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cr="$(median "${c_rates[@]}")"; sr="$(median "${s_rates[@]}")"
cc_="$(median "${c_cpu[@]}")"; sc="$(median "${s_cpu[@]}")"
echo "median: C multi $cr req/s (${cc_}s CPU), CurlHTTP $sr req/s (${sc}s CPU)"
awk -v s="$sr" -v c="$cr" -v sc="$sc" -v cc="$cc_" \
    'BEGIN {printf "CurlHTTP / C: throughput %.0f%%, CPU per request %.0f%% of C\n", 100*s/c, 100*sc/cc}'

echo "--- 512 MiB up and 512 MiB down at once through CurlHTTP (release build)"
/usr/bin/time -f 'max RSS %M KiB' "$bench" rss "http://127.0.0.1:$port/files/big" "http://127.0.0.1:$port/upload" \
    $((512 * 1024 * 1024))
