#!/usr/bin/env bash
# The peer comparison of issue 6: ../shared/peers/bench.sh (nginx, HAProxy and the gateway against the
# same upstream, in one run), three times at 64 and at 256 connections; the same comparison in alternating
# pairs (benchmarks/pairs.sh), which a noisy minute tilts less; then the memory checks.
# Read the ratios, not the absolute numbers: the machines are shared and noisy.
#
# usage: benchmarks/run.sh [--quick]     (from the project root, after `swift build -c release`)
# env:   RUNS (default 3)  DURATION (default 10)  GATEWAY (default .build/release/gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${PEERS:-../shared/peers}
gateway=${GATEWAY:-.build/release/gateway}
runs=${RUNS:-3}
[[ ${1:-} == --quick ]] && runs=1
[[ -x $gateway ]] || { echo "no release binary at $gateway: run 'swift build -c release' first"; exit 1; }
[[ -f $peers/bench.sh ]] || { echo "no $peers/bench.sh (the shared folder beside the checkout)"; exit 1; }

for connections in 64 256; do
  for run in $(seq "$runs"); do
    echo "== bench.sh run $run of $runs, $connections connections"
    CONNECTIONS=$connections bash "$peers/bench.sh" "$gateway"
  done
done
for connections in 64 256; do
  echo "== alternating pairs, HAProxy and the gateway, $connections connections"
  CONNECTIONS=$connections bash benchmarks/pairs.sh "$gateway"
done
echo "== memory"
bash benchmarks/memory.sh "$gateway"
