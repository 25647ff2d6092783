"""Judges a soak run (benchmarks/soak.sh): plots samples.csv to soak.png and prints the pass criteria."""
import argparse
import csv
import json
import re
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--healthz", required=True)
args = parser.parse_args()

rows = [(int(r["elapsed_s"]), int(r["rss_kib"]), int(r["open_fds"])) for r in csv.DictReader(open(f"{args.out}/samples.csv"))]
during = rows[:-1]  # the last row is taken after the load stopped
after_first_minute = [r for r in during if r[0] >= 60] or during
base = after_first_minute[0]
rss_growth = max(r[1] for r in after_first_minute) - base[1]
fd_growth = max(r[2] for r in after_first_minute) - base[2]
end = during[-1]
# Flat: after minute 1, RSS never more than 10% (at least 16 MiB) and descriptors never more than 64 above minute 1.
rss_flat = rss_growth <= max(base[1] // 10, 16 * 1024)
fd_flat = fd_growth <= 64

load = json.load(open(f"{args.out}/load.json"))
wrk = open(f"{args.out}/wrk.txt").read()
wrk_requests = int(re.search(r"(\d+) requests in", wrk).group(1)) if "requests in" in wrk else 0
wrk_non2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", wrk).group(1)) if "Non-2xx" in wrk else 0
unexpected_5xx = {k: v for k, v in load.items() if re.search(r" 5\d\d$", k) and not k.startswith("drop ")}
expected_5xx = sum(v for k, v in load.items() if k.startswith("drop 5"))
metrics = open(f"{args.out}/metrics.txt").read() if args.healthz else ""
metric_5xx = {}
for line in metrics.splitlines():
    match = re.match(r'gateway_requests_total\{(.*)\} ([0-9.e+]+)$', line)
    if match:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if labels.get("status", "").startswith("5"):
            key = f"{labels.get('route')} {labels['status']}"
            metric_5xx[key] = metric_5xx.get(key, 0) + int(float(match.group(2)))
unexpected_metric_5xx = {k: v for k, v in metric_5xx.items() if not k.startswith("/drop/ ")}

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, rss_axis = plt.subplots(figsize=(8, 4), dpi=80)
    minutes = [r[0] / 60 for r in rows]
    rss_axis.plot(minutes, [r[1] / 1024 for r in rows], color="tab:blue", label="RSS (MiB)")
    rss_axis.set_xlabel("minutes")
    rss_axis.set_ylabel("RSS (MiB)", color="tab:blue")
    rss_axis.set_ylim(bottom=0)
    fd_axis = rss_axis.twinx()
    fd_axis.plot(minutes, [r[2] for r in rows], color="tab:orange", label="open fds")
    fd_axis.set_ylabel("open file descriptors", color="tab:orange")
    fd_axis.set_ylim(bottom=0)
    rss_axis.set_title("gateway soak: RSS and open descriptors every 10 s")
    fig.tight_layout()
    fig.savefig(f"{args.out}/soak.png")
    plot = f"{args.out}/soak.png"
except ImportError:
    plot = "not drawn (pip install matplotlib)"

def at(seconds):
    return min(rows, key=lambda r: abs(r[0] - seconds))

m1 = at(60)
print(f"samples: {len(rows)} in {args.out}/samples.csv; plot: {plot}")
print(f"RSS: minute 1 {m1[1] / 1024:.1f} MiB, end {end[1] / 1024:.1f} MiB, max growth after minute 1 {rss_growth / 1024:.1f} MiB")
print(f"open fds: minute 1 {m1[2]}, end {end[2]}, after the load {rows[-1][2]}, max growth after minute 1 {fd_growth}")
print(f"wrk GETs: {wrk_requests} requests, non-2xx {wrk_non2xx}")
print(f"mixed load: {json.dumps(load)}")
print(f"5xx by route (metrics): {json.dumps(metric_5xx)}; expected (injected drops) {expected_5xx}")
checks = {
    "flat RSS after minute 1": rss_flat,
    "flat open descriptors after minute 1": fd_flat,
    "no 5xx besides the injected faults": not unexpected_5xx and not unexpected_metric_5xx and wrk_non2xx == 0,
    "/healthz answers at the end": args.healthz == "200",
}
for name, ok in checks.items():
    print(f"{'PASS' if ok else 'FAIL'}: {name}")
sys.exit(0 if all(checks.values()) else 1)
