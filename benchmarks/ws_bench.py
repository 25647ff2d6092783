"""The cheap ends of the WebSocket benchmark (benchmarks/websocket.sh): raw asyncio protocols, uvloop when it
is installed, no WebSocket library. On a 2-core machine the load client and the upstream share the CPU with
the proxy under test, so they must cost as little as possible or they hide the proxy's cost.

    ws_bench.py echo-server --port P
        Answers an HTTP/1.1 upgrade with 101 (Sec-WebSocket-Accept = base64(sha1(key + GUID)), RFC 6455
        section 4.2.2), then echoes every byte back as it is: client frames come back still masked, which
        our client accepts. On the path /whoami it sends one text frame with the X-OpenId it was given
        (empty when none) instead, then closes: the proxies' identity check.
    ws_bench.py client --url ws://H:P/path [--token T] [--connections 64] [--duration 10] [--payload 32]
        Opens the connections, then each one loops: one masked frame out, the same bytes back, count. Prints
        one JSON line: {"connections", "seconds", "messages", "msgs_per_s", "cpu_share", "lost"}, where
        cpu_share is the client's own CPU time over the measured window (1.0 = one core).
    ws_bench.py hold --url ... [--token T] --connections N
        Opens N tunnels, prints "open N", and holds them idle until SIGTERM or SIGINT.
    ws_bench.py check --url ... [--token T] [--header "Name: value"]...
        One upgrade; prints the status and, for /whoami, the openid the upstream saw: "101 oOpenId".
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import signal
import sys
import time
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def use_uvloop() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def masked_frame(payload: bytes, opcode=0x2) -> bytes:
    """One final masked client frame (payload under 126 bytes)."""
    assert len(payload) < 126
    key = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def header_value(head: bytes, name: bytes) -> bytes:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return b""


# -- the upstream ---------------------------------------------------------------------------------------------

class EchoServer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.head = b""
        self.open = False

    def data_received(self, data):
        if self.open:
            self.transport.write(data)
            return
        self.head += data
        if b"\r\n\r\n" not in self.head:
            return
        head, rest = self.head.split(b"\r\n\r\n", 1)
        key = header_value(head, b"sec-websocket-key")
        if not key:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        if head.split(b" ", 2)[1].split(b"?")[0].endswith(b"/whoami"):
            openid = header_value(head, b"x-openid")[:125]
            self.transport.write(bytes([0x81, len(openid)]) + openid + b"\x88\x02\x03\xe8")
            self.transport.close()
            return
        self.open = True
        if rest:
            self.transport.write(rest)


async def echo_server(args):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoServer, args.host, args.port, backlog=4096)
    print(f"echo-server listening on {args.port}", flush=True)
    async with server:
        await server.serve_forever()


# -- the clients ----------------------------------------------------------------------------------------------

def upgrade_request(url, token, headers=()) -> bytes:
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Version: 13", f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Tunnel(asyncio.Protocol):
    """One connection of the load: after the 101, one frame in flight at a time."""

    def __init__(self, request, frame, counter, opened):
        self.request, self.frame, self.counter, self.opened = request, frame, counter, opened
        self.head = b""
        self.received = 0
        self.running = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        if self.head is not None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, rest = self.head.split(b"\r\n\r\n", 1)
            self.head = None
            status = head.split(b" ", 2)[1]
            if status != b"101":
                if not self.opened.done():
                    self.opened.set_exception(RuntimeError(f"upgrade answered {head.splitlines()[0].decode()}"))
                self.transport.close()
                return
            self.opened.set_result(self)
            data = rest
            if not data:
                return
        self.received += len(data)
        size = len(self.frame)
        while self.received >= size:
            self.received -= size
            self.counter[0] += 1
            if self.running:
                self.transport.write(self.frame)

    def start(self):
        self.running = True
        self.transport.write(self.frame)

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost during the upgrade: {exc}"))
        elif self.running:
            self.counter[1] += 1
            self.running = False


async def open_tunnels(args, count, frame=b"\x82\x80\0\0\0\0", parallel=64):
    loop = asyncio.get_running_loop()
    parts = urllib.parse.urlsplit(args.url)
    request = upgrade_request(args.url, args.token)
    counter = [0, 0]  # echoes received, connections lost mid-run
    gate = asyncio.Semaphore(parallel)  # a burst of SYNs past the listen backlog would only measure retries

    async def one():
        async with gate:
            opened = loop.create_future()
            await loop.create_connection(lambda: Tunnel(request, frame, counter, opened), parts.hostname, parts.port)
            return await asyncio.wait_for(opened, 30)

    return await asyncio.gather(*(one() for _ in range(count))), counter


async def client(args):
    frame = masked_frame(os.urandom(args.payload))
    tunnels, counter = await open_tunnels(args, args.connections, frame)
    for tunnel in tunnels:
        tunnel.start()
    await asyncio.sleep(min(1.0, args.duration / 10))  # warm-up, not counted
    first, started, cpu = counter[0], time.monotonic(), time.process_time()
    await asyncio.sleep(args.duration)
    messages, seconds, cpu = counter[0] - first, time.monotonic() - started, time.process_time() - cpu
    for tunnel in tunnels:
        tunnel.running = False
        tunnel.transport.close()
    print(json.dumps({"connections": args.connections, "seconds": round(seconds, 3), "messages": messages,
                      "msgs_per_s": round(messages / seconds), "cpu_share": round(cpu / seconds, 3),
                      "lost": counter[1]}), flush=True)
    if counter[1]:
        sys.exit(f"{counter[1]} connections were lost during the run")


async def hold(args):
    tunnels, _ = await open_tunnels(args, args.connections)
    print(f"open {len(tunnels)}", flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: done.done() or done.set_result(None))
    await done
    for tunnel in tunnels:
        tunnel.transport.close()


async def check(args):
    parts = urllib.parse.urlsplit(args.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(upgrade_request(args.url, args.token, args.header))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status = head.split(b" ", 2)[1].decode()
    said = ""
    if status == "101" and parts.path.endswith("/whoami"):
        first = await asyncio.wait_for(reader.readexactly(2), 10)
        said = (await reader.readexactly(first[1] & 0x7F)).decode()
    writer.close()
    print(f"{status} {said}".strip(), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("echo-server")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, required=True)
    for name in ("client", "hold", "check"):
        command = commands.add_parser(name)
        command.add_argument("--url", required=True)
        command.add_argument("--token", default="")
        command.add_argument("--connections", type=int, default=64)
        command.add_argument("--duration", type=float, default=10)
        command.add_argument("--payload", type=int, default=32)
        command.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    loop_kind = use_uvloop()
    if args.command == "client":
        print(f"client on {loop_kind}", file=sys.stderr)
    run = {"echo-server": echo_server, "client": client, "hold": hold, "check": check}[args.command]
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
