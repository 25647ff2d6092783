"""A real WebSocket upstream for the tunnelling tests, on the `websockets` package (asyncio server).

Run as a process: `python3 ws_upstream.py --port P [--certfile F --keyfile K]` (TLS when both are given);
it prints `ws_upstream listening on P` once it accepts connections. The behaviour is chosen by the last
path segment, so it works whatever prefix the gateway keeps or strips:

    .../echo        echoes every message (text stays text, binary stays binary; up to 128 MiB)
    .../headers     one text message: JSON {"target", "headers": [[name, value], ...]} of the handshake
                    request (every copy, in order), then echoes
    .../refuse      answers the handshake with 403 and the JSON body REFUSE_BODY instead of 101
    .../close       sends the text message "closing", then closes with code 4001 reason "bye"
    .../die         on the first message received, resets the TCP connection (SO_LINGER 0, then abort):
                    an upstream that dies mid-stream, without a close frame
    .../stall       accepts, then never reads again (reading is paused before the 101 is sent)
    .../flood?bytes=N  sends N bytes in binary messages of up to FLOOD_PIECE bytes as fast as flow control
                    lets it, then waits for the client to close
    .../raw101      answers 101 with Upgrade and Connection but no Sec-WebSocket-Accept, then writes RAW_GREETING
                    and echoes raw bytes: an upstream path that switches without a WebSocket handshake
    .../h2c         answers 101 switching to h2c, then writes an HTTP/2 SETTINGS frame
    .../badaccept   answers a proper-looking 101 whose Sec-WebSocket-Accept is for another key
    .../noconnection  answers 101 with the right Sec-WebSocket-Accept but without Connection: upgrade
    GET .../stats   plain HTTP JSON: {"connections", "handshakes", "open", "closed": [...], "flood_sent", "raw"}

`connections` counts every TCP connection the server accepted (with TLS: once its handshake is done) and
`handshakes` every HTTP request it read, except the ones that asked for /stats: a test compares them
before and after to prove the gateway made no upstream connection. `closed` lists each finished tunnel as
{"target", "code", "reason"}: the close frame the upstream received (code 1006 and reason null when the
connection ended without one). `flood_sent` is the total of flood bytes handed to the socket so far. `raw` lists
each connection of the raw modes as {"target", "closed"}: `closed` turns true when the connection ends (the gateway
closing it, as it must after refusing the answer).

A subprotocol is chosen when the client offers `chat.v1` (and none is required); permessage-deflate is
accepted when offered (the websockets default). No keep-alive pings: an idle tunnel stays silent.
"""
import argparse
import asyncio
import base64
import hashlib
import http
import json
import os
import signal
import socket
import ssl
import struct
import sys
import urllib.parse

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

REFUSE_BODY = b'{"error":"forbidden"}'
FLOOD_PIECE = 256 * 1024
MAX_MESSAGE = 128 * 1024 * 1024
SUBPROTOCOL = "chat.v1"

STATS = {"connections": 0, "handshakes": 0, "open": 0, "closed": [], "flood_sent": 0, "raw": []}
RAW_GREETING = b"raw bytes from behind the gateway\n"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def segment(target: str) -> str:
    return urllib.parse.urlsplit(target).path.rstrip("/").rsplit("/", 1)[-1]


def query(target: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))


def accept_for(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def raw_answer(mode: str, key: bytes) -> bytes:
    """The 101s of the raw modes: each one a switch the gateway must not take."""
    if mode == "raw101":
        return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + RAW_GREETING
    if mode == "h2c":
        # An empty SETTINGS frame (RFC 9113 section 6.5) right after the switch.
        return b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" + bytes(
            [0, 0, 0, 4, 0, 0, 0, 0, 0])
    if mode == "badaccept":
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept_for(b"not the key the client sent") + b"\r\n\r\n" + RAW_GREETING)
    if mode == "splitswitch":
        # A real switch, but one field holds a bare LF: relayed as it is, the client would read a second field.
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept_for(key) + b"\r\nX-Note: a\nSet-Cookie: injected=1\r\n\r\n"
                + RAW_GREETING)
    if mode == "splitrefusal":
        # A refusal (passed on to the client as it is, framing included) with the same field.
        return b"HTTP/1.1 403 Forbidden\r\nX-Note: a\nSet-Cookie: injected=1\r\nContent-Length: 0\r\n\r\n"
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Accept: " + accept_for(key) + b"\r\n\r\n" + RAW_GREETING)


RAW_MODES = ("raw101", "h2c", "badaccept", "noconnection", "splitswitch", "splitrefusal")


class CountingConnection(ServerConnection):
    """Counts TCP connections as they are accepted, before any byte of HTTP is read; answers the raw modes itself,
    on the bare transport, since no WebSocket library would send those answers."""

    def connection_made(self, transport):
        STATS["connections"] += 1
        self.raw_head = b""
        self.raw_entry = None
        super().connection_made(transport)

    def data_received(self, data):
        if self.raw_entry is not None:
            self.transport.write(data)  # echo: whatever a raw socket would relay
            return
        if self.raw_head is None:
            return super().data_received(data)
        self.raw_head += data
        if b"\r\n\r\n" not in self.raw_head:
            return
        head, self.raw_head = self.raw_head, None
        target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
        mode = segment(target)
        if mode not in RAW_MODES:
            return super().data_received(head)
        STATS["handshakes"] += 1
        key = b""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        self.raw_entry = {"target": target, "closed": False}
        STATS["raw"].append(self.raw_entry)
        self.transport.write(raw_answer(mode, key))

    def connection_lost(self, exc):
        if self.raw_entry is not None:
            self.raw_entry["closed"] = True
        super().connection_lost(exc)


def json_response(status: int, body: bytes) -> Response:
    headers = Headers()
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def process_request(connection: ServerConnection, request):
    name = segment(request.path)
    if name == "stats":
        STATS["connections"] -= 1
        return json_response(200, json.dumps(STATS).encode())
    STATS["handshakes"] += 1
    if name == "refuse":
        return json_response(403, REFUSE_BODY)
    if name == "stall":
        # Before the 101 goes out, so not one frame is ever read from this connection.
        connection.transport.pause_reading()
    return None


def select_subprotocol(connection, offered):
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def handler(ws: ServerConnection):
    target = ws.request.path
    name = segment(target)
    STATS["open"] += 1
    try:
        if name == "headers":
            headers = [[name, value] for name, value in ws.request.headers.raw_items()]
            await ws.send(json.dumps({"target": target, "headers": headers}))
            await echo(ws)
        elif name == "close":
            await ws.send("closing")
            await ws.close(4001, "bye")
        elif name == "die":
            await ws.recv()
            sock = ws.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
        elif name == "stall":
            await ws.wait_closed()
        elif name == "flood":
            remaining = int(query(target).get("bytes", "0"))
            piece = os.urandom(FLOOD_PIECE)
            while remaining > 0:
                part = piece[: min(remaining, FLOOD_PIECE)]
                await ws.send(part)
                remaining -= len(part)
                STATS["flood_sent"] += len(part)
            await ws.wait_closed()
        else:
            await echo(ws)
    except ConnectionClosed:
        pass
    finally:
        STATS["open"] -= 1
        received = ws.protocol.close_rcvd
        STATS["closed"].append({
            "target": target,
            "code": received.code if received is not None else 1006,
            "reason": received.reason if received is not None else None,
        })


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()

    context = None
    if args.certfile and args.keyfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.certfile, args.keyfile)

    loop = asyncio.get_running_loop()
    # Stalled tunnels would hold a graceful close for their close timeout: a test helper just leaves.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: os._exit(0))

    async with serve(
        handler,
        args.host,
        args.port,
        ssl=context,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        create_connection=CountingConnection,
        max_size=MAX_MESSAGE,
        ping_interval=None,
        # No opening-handshake timeout: it would close a raw mode's connection on its own, and a test must see that
        # the gateway closed it.
        open_timeout=None,
        backlog=1024,
    ):
        print(f"ws_upstream listening on {args.port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    sys.exit(asyncio.run(main()))
