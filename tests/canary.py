"""Listeners for the SSRF tests: a canary that counts every connection made to it, and a small
SPARQL endpoint that answers fixed results and records what it was asked."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SECRET = "CANARY-SECRET-7f3a"
"""What the canary answers: a response body holding it means a request reached the canary."""


class Canary:
    """A TCP listener on ``host`` (127.0.0.2 by default) that accepts, counts and answers every
    connection with an HTTP 200 carrying SPARQL JSON results with :data:`SECRET`."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.host, self.port = self.sock.getsockname()[:2]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/sparql"

    def _serve(self) -> None:
        body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
            {"x": {"type": "literal", "value": SECRET}}]}}).encode()
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(peer)
            try:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class FakeEndpoint:
    """A SPARQL endpoint on loopback answering every query with ``answer`` (SPARQL JSON), or with
    ``status``/``headers`` when set (a redirect, an error); it records (method, query) pairs."""

    def __init__(self, answer: dict | None = None, host: str = "127.0.0.1") -> None:
        self.answer = answer or {"head": {"vars": []}, "results": {"bindings": []}}
        self.status = 200
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.requests: list[tuple[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, query: str) -> None:
                import time

                endpoint.requests.append((self.command, query))
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                body = json.dumps(endpoint.answer).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/sparql-results+json")
                for name, value in endpoint.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(parse_qs(urlsplit(self.path).query).get("query", [""])[0])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    data = parse_qs(data).get("query", [""])[0]
                self._answer(data)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/sparql"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
