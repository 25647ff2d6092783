"""RSS of the gateway holding many tunnels of one user whose clients never read while the upstream floods them
(issue 22 item 3: the memory is bounded by [websocket] max_buffered, not by tunnels x buffer).

usage: python3 benchmarks/websocket_budget.py GATEWAY_BINARY [TUNNELS] [WEBSOCKET_TABLE]
  TUNNELS          default 1000, all with tokens of one openid
  WEBSOCKET_TABLE  default 'max_tunnels_per_user = 1000\\nmax_buffered = "16MiB"' ('\\n' separates keys)
env FLOOD_MIB      what the upstream sends each tunnel, default 64; 0 measures idle tunnels for comparison

Prints the RSS before, with the tunnels open and the upstream held still, and what the upstream handed its sockets.
"""
import os
import pathlib
import resource
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "integration"))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

import gateway_process  # noqa: E402

gateway_process.GATEWAY_BIN = sys.argv[1]
from conftest import wait_for  # noqa: E402
from gateway_process import unique  # noqa: E402
from test_websocket import MiB, RawTunnel, WsUpstream, rss_kib, ws_gateway  # noqa: E402
from tokens import mint  # noqa: E402


def main():
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    table = (sys.argv[3] if len(sys.argv) > 3 else 'max_tunnels_per_user = 1000\nmax_buffered = "16MiB"')
    table = table.replace("\\n", "\n") + '\nidle_timeout = "600s"'
    work = pathlib.Path(tempfile.mkdtemp())
    upstream = WsUpstream(work)
    gw = ws_gateway(work, upstream, table)
    try:
        openid = unique("heavy")
        time.sleep(1)
        before = rss_kib(gw)
        start = upstream.stats()["flood_sent"]
        flood = int(os.environ.get("FLOOD_MIB", "64")) * MiB
        tunnels = [RawTunnel(gw, f"/ws/flood?bytes={flood}", mint(openid)) for _ in range(count)]
        opened = rss_kib(gw)
        history = []

        def held():
            history.append(upstream.stats()["flood_sent"] - start)
            return len(history) > 5 and (history[-1] > 0 or flood == 0) and len(set(history[-6:])) == 1

        wait_for(held, timeout=600, interval=0.5, what="the flooding upstream to be held back")
        after = rss_kib(gw)
        print(f"tunnels={count} websocket=[{table.replace(chr(10), '; ')}]")
        print(f"rss_before_kib={before} rss_open_kib={opened} rss_held_kib={after} "
              f"growth_mib={(after - before) / 1024:.1f} upstream_sent_mib={history[-1] / MiB:.1f}")
        for tunnel in tunnels:
            tunnel.close()
    finally:
        gw.stop()
        upstream.stop()


if __name__ == "__main__":
    main()
