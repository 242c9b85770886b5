"""Shared by hostform's stand-in images (test/hosts/site-images/README.md).

A stand-in is NOT the product it is named for. It answers on that product's port with the parts of its
behaviour the site's tests look at, and says what it is in its logs and in the header
`X-Hostform-Standin` of every response.
"""

import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def log(name, message):
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} hostform-standin={name}: {message}", file=sys.stderr, flush=True)


def exit_on_signals(name):
    """A container's PID 1 ignores signals it has no handler for: podman stop would wait 10 s and kill."""

    def stop(signum, _frame):
        log(name, f"stopping on signal {signum}")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


class Handler(BaseHTTPRequestHandler):
    """A request handler with JSON and text replies; subclasses set STANDIN and implement do_GET etc."""

    STANDIN = "unknown"
    protocol_version = "HTTP/1.1"
    server_version = "hostform-standin"

    def reply(self, status, body, content_type="text/plain; charset=utf-8", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Hostform-Standin", self.STANDIN)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reply_json(self, status, value, headers=None):
        self.reply(status, json.dumps(value, indent=2) + "\n", "application/json", headers)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def log_message(self, fmt, *args):
        log(self.STANDIN, f"{self.client_address[0]} {fmt % args}")


def serve(handler, port, address="0.0.0.0"):
    server = ThreadingHTTPServer((address, port), handler)
    server.daemon_threads = True
    log(handler.STANDIN, f"listening on {address}:{port} (a hostform stand-in, not the real program)")
    server.serve_forever()
