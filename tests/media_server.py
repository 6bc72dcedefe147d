"""A local HTTP server on 127.0.0.1 for media tests, with scripted misbehaviour.

Usable from any test module::

    from media_server import MediaServer, Route

    with MediaServer({"/a.png": png_bytes}, key="secret") as server:
        server.add("/flaky.png", png_bytes, fail=[500, 429], retry_after="0")
        server.add("/away.png", redirect=other.url("/a.png"))
        url = server.url("/a.png")
        ...
        assert server.requests_for("/a.png")[0].header("Authorization") == "Key secret"

``tls=(cert_file, key_file)`` serves https instead (see ``make_tls_cert``).

Every request is recorded (method, path, headers, the ``Host`` it was sent to) so
tests can check where a key went. Unknown paths answer 404.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["MediaServer", "RecordedRequest", "Route", "make_tls_cert"]


@dataclass
class Route:
    """What the server does for one path; the scripted failures come first, in this order."""

    #: Body of the final (successful) answer.
    body: bytes = b""
    #: Status of the final answer.
    status: int = 200
    content_type: str = "application/octet-stream"
    #: Seconds to wait before answering each request (on top of the server's latency).
    latency: float = 0.0
    #: Close the connection without an answer on the first ``drop`` requests.
    drop: int = 0
    #: Statuses to answer first, one per request (e.g. ``[500, 429]``), then succeed.
    fail: Sequence[int] = ()
    #: ``Retry-After`` value sent with the scripted failures.
    retry_after: str | None = None
    #: Announce the full length but send half the body, then close, on the first N requests.
    truncate: int = 0
    #: Seconds to stall after the headers, before the body (a slow download).
    stall: float = 0.0
    #: After the headers, hold the body until this event is set (at most 60 s).
    body_gate: threading.Event | None = None
    #: The key required (``Authorization: Key <key>``); 401 otherwise. None: no check.
    key: str | None = None
    #: Answer with a redirect to this URL instead of the body.
    redirect: str | None = None
    redirect_status: int = 302
    #: Extra headers of the final answer.
    headers: dict[str, str] = field(default_factory=dict)
    #: Hold each request until this event is set (at most 60 s), before any other step.
    gate: threading.Event | None = None
    #: Requests seen so far (the server counts them).
    hits: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    #: Port of the server that got it (tells two servers apart).
    server_port: int

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    owner: MediaServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up are part of the tests: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and
    # delayed ACKs add ~40 ms to many answers.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """No access log on stderr."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.owner._handle(self)

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.owner._handle(self)


class MediaServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (a free port) serving bytes by path.

    ``routes`` maps paths to bytes or :class:`Route`; ``latency`` delays every answer;
    ``key`` makes every route added without its own ``key`` require that key;
    ``capacity`` answers 429 at once to requests beyond that many in flight.
    """

    def __init__(
        self,
        routes: Mapping[str, bytes | Route] | None = None,
        *,
        latency: float = 0.0,
        key: str | None = None,
        host: str = "127.0.0.1",
        tls: tuple[Path, Path] | None = None,
        capacity: int | None = None,
    ) -> None:
        self.latency = latency
        self.capacity = capacity
        #: Requests answered 429 because more than ``capacity`` were in flight.
        self.refused = 0
        self.key = key
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._in_flight_changed = threading.Condition(self._lock)
        #: Most requests the server was answering at the same time.
        self.max_in_flight = 0
        #: When set, every request waits here before it is answered (requests that are
        #: in flight together pass it together; a broken barrier answers 503).
        self.barrier: threading.Barrier | None = None
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        #: ``https`` when serving TLS with ``tls=(cert_file, key_file)``.
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None
        for path, route in (routes or {}).items():
            if isinstance(route, Route):
                self._routes[path] = route
            else:
                self.add(path, route)

    # -- set up ---------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with TLS)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        """The address of ``path`` here (``host="localhost"`` names the same server differently)."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def add(self, path: str, body: bytes = b"", **options: Any) -> str:
        """Serve ``body`` at ``path`` with :class:`Route` ``options``; return its URL."""
        options.setdefault("key", self.key)
        with self._lock:
            self._routes[path] = Route(body=body, **options)
        return self.url(path)

    def route(self, path: str) -> Route:
        """The route of ``path`` (to read its ``hits``)."""
        return self._routes[path]

    # -- what happened ----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in the order they arrived."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """The requests for ``path`` (query string ignored)."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def hits(self, path: str) -> int:
        return len(self.requests_for(path))

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> MediaServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> MediaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        with self._lock:
            if self.capacity is not None and self._in_flight >= self.capacity:
                self.refused += 1
                busy = True
            else:
                busy = False
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
                self._in_flight_changed.notify_all()
        if busy:
            self._answer(handler, 429, b"too many requests", "text/plain")
            return
        try:
            self._answer_request(handler)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._in_flight_changed.notify_all()

    def wait_for_in_flight(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until exactly ``count`` requests are being answered; False on timeout."""
        with self._lock:
            return self._in_flight_changed.wait_for(lambda: self._in_flight == count, timeout)

    def _answer_request(self, handler: _Handler) -> None:
        record = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers=tuple(handler.headers.items()),
            server_port=self.port,
        )
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self._requests.append(record)
            route = self._routes.get(path)
            if route is not None:
                route.hits += 1
                hit = route.hits
        if route is not None and route.gate is not None:
            route.gate.wait(60)
        if self.barrier is not None:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                self._answer(handler, 503, b"barrier broken", "text/plain")
                return
        delay = self.latency + (route.latency if route is not None else 0.0)
        if delay:
            time.sleep(delay)
        if route is None:
            self._answer(handler, 404, b"not found", "text/plain")
            return
        n = hit
        if n <= route.drop:
            handler.close_connection = True
            return
        n -= route.drop
        if n <= len(route.fail):
            status = route.fail[n - 1]
            extra = {"Retry-After": route.retry_after} if route.retry_after is not None else {}
            self._answer(handler, status, b"<html>busy</html>", "text/html", extra)
            return
        n -= len(route.fail)
        if route.key is not None and handler.headers.get("Authorization") != f"Key {route.key}":
            self._answer(handler, 401, b'{"status": "unauthorized"}', "application/json")
            return
        if route.redirect is not None:
            extra = {"Location": route.redirect}
            self._answer(handler, route.redirect_status, b"", "text/plain", extra)
            return
        if n <= route.truncate:
            self._send_head(handler, route.status, len(route.body), route.content_type, {})
            handler.wfile.write(route.body[: len(route.body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        self._send_head(handler, route.status, len(route.body), route.content_type, route.headers)
        if route.stall:
            handler.wfile.flush()
            time.sleep(route.stall)
        if route.body_gate is not None:
            handler.wfile.flush()
            route.body_gate.wait(60)
        if handler.command != "HEAD":
            try:
                handler.wfile.write(route.body)
            except OSError:
                handler.close_connection = True

    @staticmethod
    def _send_head(
        handler: _Handler, status: int, length: int, content_type: str, extra: Mapping[str, str]
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(length))
        for key, value in extra.items():
            handler.send_header(key, value)
        handler.end_headers()

    def _answer(
        self,
        handler: _Handler,
        status: int,
        body: bytes,
        content_type: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        try:
            self._send_head(handler, status, len(body), content_type, extra or {})
            if handler.command != "HEAD":
                handler.wfile.write(body)
        except OSError:
            handler.close_connection = True


def make_tls_cert(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 and localhost made with ``openssl``.

    Returns ``(cert_file, key_file)``, or None when the openssl command is missing.
    """
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
