"""The browser tests' side of the H5 page: a static site on a loopback origin serving the client library
(clients/miniprogram, unchanged) and the test's page (h5_page/), and a headless Chromium driven by Playwright.

Chromium is Debian's (`apt-get install chromium`, /usr/bin/chromium); Playwright (PyPI) only drives it and
never downloads a browser of its own. `make deps` installs both.
"""
import json
import os
import pathlib
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import ROOT, free_port

LIBRARY = ROOT / "clients" / "miniprogram"
PAGE = pathlib.Path(__file__).resolve().parent / "h5_page"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
# The library's files a page may load: what an H5 build bundles, nothing else of the repository.
LIBRARY_FILES = {"index", "browser", "platform", "session-store", "refresh-coordinator", "answers", "errors"}
PAGE_FILES = {"/app.html": "text/html", "/app.js": "text/javascript", "/require.js": "text/javascript"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class StaticSite:
    """An H5 page's origin, `http://127.0.0.1:<port>`. `client` is what the page passes to
    createBrowserClient (served as /config.js). Every path the browser asked for is kept in `requests`."""

    def __init__(self, client: dict):
        self.client = client
        self.requests: list[str] = []
        handler = type("BoundHandler", (_Handler,), {"site": self})
        self.server = _Server(("127.0.0.1", free_port()), handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path="/app.html") -> str:
        return self.origin + path

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: StaticSite

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.site.requests.append(self.path)
        path = self.path.split("?", 1)[0]
        if path == "/config.js":
            return self._send(200, f"window.CONFIG = {json.dumps({'client': self.site.client})}\n", "text/javascript")
        if path in PAGE_FILES:
            return self._send(200, (PAGE / path[1:]).read_text(), PAGE_FILES[path])
        if path.startswith("/lib/") and path.endswith(".js") and path[5:-3] in LIBRARY_FILES:
            return self._send(200, (LIBRARY / path[5:]).read_text(), "text/javascript")
        return self._send(404, "not found", "text/plain")

    def _send(self, status, text, content_type):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def launch_chromium(playwright):
    """Debian's Chromium, headless (no display needed). Missing: say how to get it rather than skip."""
    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: `make deps` installs Debian's chromium (apt-get install chromium)")
    # --no-sandbox: the tests run as root in CI, where Chromium refuses its sandbox. --disable-dev-shm-usage:
    # a container's small /dev/shm must not crash the renderer.
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])
