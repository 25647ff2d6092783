"""A real OTLP/HTTP trace receiver for the tracing tests (issue 25 item 1), standard library plus
`opentelemetry-proto` (PyPI): it decodes each `POST /v1/traces` body as an `ExportTraceServiceRequest`
(protobuf, gzip-compressed or not) and answers with an `ExportTraceServiceResponse`, as a collector does.

    receiver = OtlpReceiver()            # listens on a free loopback port
    receiver.endpoint                    # "http://127.0.0.1:PORT", what [tracing] endpoint names
    receiver.spans                       # every span received, as dicts (ids in lowercase hex)
    receiver.wait_for(lambda spans: ...) # polls until the predicate holds
    print(tree(receiver.spans, trace_id))

Run alone (`python3 Tests/integration/otlp_receiver.py [port]`) it prints each trace as a tree as batches arrive.
"""
import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

try:
    from conftest import free_port, wait_for
except ImportError:  # run as a script
    free_port = None
    wait_for = None

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body: bytes) -> list[dict]:
    """The spans of one ExportTraceServiceRequest, flattened with their resource's service.name."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append({
                    "service": resource.get("service.name"),
                    "name": span.name,
                    "kind": KINDS.get(span.kind, str(span.kind)),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "trace_state": span.trace_state,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "status": span.status.code,
                    "attributes": {a.key: _value(a.value) for a in span.attributes},
                })
    return spans


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class OtlpReceiver:
    def __init__(self, port: int | None = None):
        self.spans: list[dict] = []
        self.requests = 0
        self._lock = threading.Lock()
        handler = type("BoundHandler", (_Handler,), {"receiver": self})
        self.server = _Server(("127.0.0.1", port if port is not None else free_port()), handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def add(self, spans: list[dict]) -> None:
        with self._lock:
            self.requests += 1
            self.spans.extend(spans)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.spans)

    def wait_for(self, predicate, timeout=30.0, what="spans"):
        """Polls until `predicate(spans)` is truthy; returns its value."""
        return wait_for(lambda: predicate(self.snapshot()), timeout=timeout, what=what)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver: OtlpReceiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces" or "protobuf" not in (self.headers.get("Content-Type") or ""):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        self.receiver.add(decode(body))
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def tree(spans: list[dict], trace_id: str, upstream_parent: str | None = None) -> str:
    """One trace as an indented tree (the issue's evidence): each span under its parent, with its attributes;
    `upstream_parent` (the parent id the upstream received) is marked on the span it names."""
    in_trace = [s for s in spans if s["trace_id"] == trace_id]
    ids = {s["span_id"] for s in in_trace}
    lines = [f"trace {trace_id}"]

    def walk(parent, depth):
        for span in sorted((s for s in in_trace if s["parent_span_id"] == parent), key=lambda s: s["start"]):
            mark = "  <- upstream's traceparent parent id" if span["span_id"] == upstream_parent else ""
            attributes = ", ".join(f"{k}={v}" for k, v in sorted(span["attributes"].items()))
            millis = (span["end"] - span["start"]) / 1e6
            lines.append(f"{'  ' * depth}{span['name']} [{span['kind']}] span {span['span_id']} "
                         f"{millis:.1f} ms {{{attributes}}}{mark}")
            walk(span["span_id"], depth + 1)

    roots = {s["parent_span_id"] for s in in_trace if s["parent_span_id"] not in ids}
    for root in sorted(roots):
        if root:
            lines.append(f"  (remote parent {root})")
        walk(root, 2 if root else 1)
    return "\n".join(lines)


if __name__ == "__main__":
    receiver = OtlpReceiver(int(sys.argv[1]) if len(sys.argv) > 1 else 4318)
    print(f"OTLP/HTTP receiver on {receiver.endpoint}/v1/traces", flush=True)
    seen = 0
    try:
        while True:
            threading.Event().wait(1)
            spans = receiver.snapshot()
            if len(spans) > seen:
                for trace_id in dict.fromkeys(s["trace_id"] for s in spans[seen:]):
                    print(tree(spans, trace_id), flush=True)
                seen = len(spans)
    except KeyboardInterrupt:
        receiver.stop()
