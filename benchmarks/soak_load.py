"""The mixed load of benchmarks/soak.sh (besides wrk's GETs), standard library only, on 127.0.0.1.

Each worker loops until the deadline and counts answers by kind and status; the summary (JSON) says which 5xx
were expected: only the /drop/ route's 502s, whose upstream drops every connection on purpose.
"""
import argparse
import base64
import collections
import http.client
import json
import os
import socket
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--seconds", type=int, required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
deadline = time.monotonic() + args.seconds
counts = collections.Counter()
lock = threading.Lock()


def count(kind, status):
    with lock:
        counts[f"{kind} {status}"] += 1


def request(method, target, headers=None, body=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, b""
    finally:
        conn.close()


def uploads():
    body = os.urandom(256 * 1024)
    while time.monotonic() < deadline:
        status, _ = request("POST", "/api/upload", {"Authorization": f"Bearer {args.token}"}, body)
        count("upload", status)


def sessions(worker):
    n = 0
    while time.monotonic() < deadline:
        n += 1
        status, body = request("POST", "/auth/login", {"Content-Type": "application/json"},
                               json.dumps({"code": f"openid:soak-{worker}-{n}"}))
        count("login", status)
        if status != 200:
            continue
        tokens = json.loads(body)
        status, body = request("POST", "/auth/token", {"Content-Type": "application/x-www-form-urlencoded"},
                               f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}")
        count("refresh", status)
        if status != 200:
            continue
        access = json.loads(body)["access_token"]
        status, _ = request("GET", "/api/me", {"Authorization": f"Bearer {access}"})
        count("session-api", status)
        status, _ = request("POST", "/auth/logout", {"Authorization": f"Bearer {access}"})
        count("logout", status)
        status, _ = request("GET", "/api/me", {"Authorization": f"Bearer {access}"})
        count("after-logout", status)


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bad_tokens():
    forged = [
        "garbage",
        args.token[:-4] + "AAAA",
        b64(b'{"alg":"ES256","kid":"x"}') + "." + b64(b'{"sub":"o","exp":1e400}') + "." + b64(bytes(64)),
        b64(b'{"alg":"none"}') + "." + b64(b'{"sub":"o\\r\\nX-Admin: 1"}') + ".",
    ]
    i = 0
    while time.monotonic() < deadline:
        status, _ = request("GET", "/api/x", {"Authorization": f"Bearer {forged[i % len(forged)]}"})
        count("bad-token", status)
        i += 1


def slow_clients():
    # 20 clients at a time trickle a header byte every 2 s; client_timeout (5 s) must cut each off.
    while time.monotonic() < deadline:
        socks = []
        for _ in range(20):
            try:
                sock = socket.create_connection(("127.0.0.1", args.port), timeout=30)
                sock.sendall(b"GET /api/slow HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
                socks.append(sock)
            except OSError:
                count("slow", "connect-failed")
        for _ in range(6):
            for sock in socks:
                try:
                    sock.send(b"x")
                except OSError:
                    pass
            time.sleep(2)
        for sock in socks:
            try:
                sock.settimeout(10)
                head = sock.recv(4096)
                count("slow", head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "closed")
            except OSError as error:
                count("slow", type(error).__name__)
            finally:
                sock.close()


def drops():
    while time.monotonic() < deadline:
        status, _ = request("GET", "/drop/x", {"Authorization": f"Bearer {args.token}"})
        count("drop", status)
        time.sleep(0.05)


workers = [threading.Thread(target=uploads), threading.Thread(target=bad_tokens), threading.Thread(target=slow_clients),
           threading.Thread(target=drops)] + [threading.Thread(target=sessions, args=(w,)) for w in range(2)]
for worker in workers:
    worker.daemon = True
    worker.start()
for worker in workers:
    worker.join()
with open(args.out, "w") as out:
    json.dump(dict(sorted(counts.items())), out, indent=1)
print(json.dumps(dict(sorted(counts.items())), indent=1))
