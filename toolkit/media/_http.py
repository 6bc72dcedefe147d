"""Fetch media over HTTP(S) with the standard library: keep-alive, retries, key rules.

The Clarifai key is sent only with requests for hosted copies, only to the hosted
prefix's own origin (scheme, host, port), only over https (plain http only on the
loopback interface, for tests), only to an allowed host, and never across a redirect
to another origin. It never appears in a message.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from ._throttle import Throttle

# http.client, ssl, socket and email load with the first download, not with every command
# that imports the media package (15 ms of a conversion's start otherwise).
if TYPE_CHECKING:
    import http.client
    import ssl

__all__ = [
    "DEFAULT_KEY_HOSTS",
    "FetchError",
    "FetchPolicy",
    "Fetcher",
    "LocalWriteError",
    "hosted_url",
]

log = logging.getLogger(__name__)

#: Hosts (and their subdomains) that may receive the key. Loopback is always allowed.
DEFAULT_KEY_HOSTS: tuple[str, ...] = ("clarifai.com",)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({408, 425, 429})
#: Answers that mean "too many requests from you": fewer downloads at once.
_PUSH_BACK_STATUSES = frozenset({429, 503})
_CHUNK = 1 << 16
_USER_AGENT = "clarifai-archive-toolkit"
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True)
class FetchPolicy:
    """How hard to try: timeouts, retries, backoff and which hosts may get the key."""

    #: Seconds a connect or a read may wait without progress.
    timeout: float = 30.0
    #: Extra tries after the first one, on 408/425/429/5xx, timeouts and connection errors.
    retries: int = 4
    #: First backoff in seconds; it doubles each try, with jitter (x0.5 to x1.5).
    backoff: float = 0.5
    #: Longest backoff between two tries, in seconds.
    max_backoff: float = 30.0
    #: Longest wait a server's ``Retry-After`` may ask for, in seconds.
    max_retry_after: float = 120.0
    #: Most redirects followed for one request.
    max_redirects: int = 5
    #: Largest body accepted, in bytes.
    max_bytes: int = 4 * 1024**3
    #: Hosts (with their subdomains) the key may go to, besides loopback.
    key_hosts: Sequence[str] = DEFAULT_KEY_HOSTS


class FetchError(Exception):
    """A download failed for good; ``reason`` says why (and never holds the key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LocalWriteError(Exception):
    """Writing the body to the local file failed (disk full, ...): not the server's fault."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Retryable(Exception):
    def __init__(
        self, reason: str, retry_after: float | None = None, *, push_back: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.push_back = push_back


class _Interrupted(FetchError):
    pass


def hosted_url(prefix: str, suffix: str, size: str = "orig") -> str:
    """The address of a hosted copy: ``{prefix}/{size}/{suffix}``.

    Example::

        hosted_url("https://data.clarifai.com", "users/u/apps/a/inputs/image/abc")
    """
    return f"{prefix.rstrip('/')}/{size}/{suffix.lstrip('/')}"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _where(parts: SplitResult) -> str:
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FetchError("bad URL (cannot be parsed)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"bad URL scheme {parts.scheme or '(none)'!r}: only http and https")
    if not parts.hostname:
        raise FetchError("bad URL (no host)")
    return parts


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), cap)


class Fetcher:
    """One worker's HTTP client: keeps a connection per origin open between requests.

    Not thread-safe: give each thread its own. ``stop`` cuts backoffs and bodies short.
    A ``throttle`` shared by several fetchers bounds their requests in flight together
    and lowers that bound while servers answer 429 or 503.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        pat: str | None,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.policy = policy
        self._throttle = throttle
        self._pat = pat
        self._rng = rng or random.Random()
        self._stop = stop or threading.Event()
        self._conns: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._ssl: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"<Fetcher {len(self._conns)} connections>"

    def close(self) -> None:
        """Close every kept connection."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    # -- public ---------------------------------------------------------------

    def fetch(self, url: str, dest: BinaryIO, *, with_key: bool = False) -> None:
        """Write the body of ``url`` into ``dest`` (truncated first); raise FetchError.

        ``with_key`` sends ``Authorization: Key <pat>`` (a hosted copy): the URL must
        be https (http on loopback) on an allowed host, and the key stays with that origin.
        """
        key_origin = self._key_origin(url) if with_key else None
        tries = 0
        while True:
            tries += 1
            try:
                dest.seek(0)
                dest.truncate()
            except OSError as exc:
                raise LocalWriteError(exc) from exc
            try:
                self._try_once(url, dest, key_origin)
                return
            except _Retryable as exc:
                if tries > self.policy.retries:
                    raise FetchError(self._scrub(f"{exc.reason} ({tries} tries)")) from None
                if exc.retry_after is not None:
                    delay = min(exc.retry_after, self.policy.max_retry_after)
                else:
                    delay = min(self.policy.backoff * 2 ** (tries - 1), self.policy.max_backoff)
                    delay *= 0.5 + self._rng.random()
                if self._stop.wait(delay):
                    raise _Interrupted("interrupted") from None
            except _Interrupted:
                raise
            except FetchError as exc:
                raise FetchError(self._scrub(exc.reason)) from None

    # -- internals ------------------------------------------------------------

    def _try_once(self, url: str, dest: BinaryIO, key_origin: tuple[str, str, int] | None) -> None:
        """One try, inside a throttle slot when there is a throttle."""
        if self._throttle is None:
            self._fetch_once(url, dest, key_origin)
            return
        with self._throttle.slot(self._stop) as epoch:
            if self._stop.is_set():
                raise _Interrupted("interrupted")
            try:
                self._fetch_once(url, dest, key_origin)
            except _Retryable as exc:
                if exc.push_back and self._throttle.pushed_back(epoch):
                    log.info("a server pushed back: %d downloads at once", self._throttle.limit)
                raise
        self._throttle.succeeded()

    def _scrub(self, text: str) -> str:
        if self._pat and self._pat in text:
            text = text.replace(self._pat, "***")
        return text

    def _key_origin(self, url: str) -> tuple[str, str, int]:
        parts = _split(url)
        host = (parts.hostname or "").lower()
        loopback = _is_loopback(host)
        if parts.scheme.lower() != "https" and not loopback:
            raise FetchError(
                f"bad host: the hosted copy is on plain http ({_where(parts)}); "
                "the key is only sent over https"
            )
        allowed = loopback or any(
            host == h.lower() or host.endswith("." + h.lower()) for h in self.policy.key_hosts
        )
        if not allowed:
            raise FetchError(
                f"bad host: the hosted copy is on {host}, which is not one of "
                f"{', '.join(self.policy.key_hosts)}; the key is not sent there"
            )
        if not self._pat:
            raise FetchError("the hosted copy needs a key: set CLARIFAI_PAT or give a key file")
        return _origin(parts)

    def _fetch_once(
        self, url: str, dest: BinaryIO, key_origin: tuple[str, str, int] | None
    ) -> None:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            parts = _split(current)
            headers = {
                "User-Agent": _USER_AGENT,
                "Accept": "*/*",
                "Accept-Encoding": "identity",
            }
            if key_origin is not None and _origin(parts) == key_origin:
                headers["Authorization"] = f"Key {self._pat}"
            conn, resp = self._request(parts, headers)
            status = resp.status
            if status in _REDIRECTS:
                location = resp.getheader("Location")
                self._discard(conn, resp, parts)
                if not location:
                    raise FetchError(f"HTTP {status} redirect without a Location ({_where(parts)})")
                current = urljoin(current, location.strip())
                continue
            if status == 200:
                self._read_body(conn, resp, parts, dest)
                return
            self._discard(conn, resp, parts)
            reason = f"HTTP {status} {resp.reason}".rstrip() + f" from {_where(parts)}"
            if status in _RETRY_STATUSES or 500 <= status <= 599:
                cap = self.policy.max_retry_after
                raise _Retryable(
                    reason,
                    _retry_after(resp.getheader("Retry-After"), cap),
                    push_back=status in _PUSH_BACK_STATUSES,
                )
            if status in (401, 403) and "Authorization" in headers:
                reason += " (check the key: CLARIFAI_PAT)"
            elif status in (401, 403) and key_origin is not None:
                reason += " (the key was not sent to this host)"
            raise FetchError(reason)
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    def _connection(self, parts: SplitResult) -> tuple[http.client.HTTPConnection, bool]:
        import http.client
        import ssl

        origin = _origin(parts)
        conn = self._conns.get(origin)
        if conn is not None:
            return conn, True
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.policy.timeout, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.policy.timeout)
        self._conns[origin] = conn
        return conn, False

    def _drop(self, parts: SplitResult) -> None:
        conn = self._conns.pop(_origin(parts), None)
        if conn is not None:
            conn.close()

    def _request(
        self, parts: SplitResult, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        import http.client
        import socket
        import ssl

        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        # Percent-encode non-ASCII characters as browsers do; control characters stay
        # and make http.client refuse the URL.
        path = _NON_ASCII.sub(lambda m: quote(m.group(), safe=""), path)
        for _attempt in range(2):
            conn, reused = self._connection(parts)
            try:
                conn.request("GET", path, headers=headers)
                return conn, conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(parts)
                if reused:
                    continue  # a kept connection the server had closed: try a fresh one now
                raise _Retryable(f"connection closed by {_where(parts)}") from exc
            except ssl.SSLCertVerificationError as exc:
                self._drop(parts)
                raise FetchError(f"TLS certificate of {_where(parts)} not trusted") from exc
            except (http.client.InvalidURL, UnicodeError) as exc:
                self._drop(parts)
                raise FetchError("bad URL (characters a URL cannot have)") from exc
            except ValueError as exc:
                # A header value http.client refuses; its message would quote the key.
                self._drop(parts)
                raise FetchError(
                    "bad request header (the key holds characters a key cannot have)"
                ) from exc
            except TimeoutError as exc:
                self._drop(parts)
                raise _Retryable(
                    f"timed out after {self.policy.timeout:g} s waiting for {_where(parts)}"
                ) from exc
            except ConnectionRefusedError as exc:
                self._drop(parts)
                raise _Retryable(f"connection refused by {_where(parts)}") from exc
            except socket.gaierror as exc:
                self._drop(parts)
                raise _Retryable(f"cannot resolve host {parts.hostname}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parts)
                raise _Retryable(
                    f"connection error with {_where(parts)}: {type(exc).__name__}"
                ) from exc
        raise _Retryable(f"connection closed by {_where(parts)}")

    def _discard(
        self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, parts: SplitResult
    ) -> None:
        """Finish an unwanted body so the connection can be kept, or drop the connection."""
        import http.client

        try:
            leftover = resp.read(_CHUNK + 1)
        except (OSError, http.client.HTTPException):
            leftover = b"x" * (_CHUNK + 1)
        if len(leftover) > _CHUNK or resp.will_close:
            self._drop(parts)
        resp.close()

    def _read_body(
        self,
        conn: http.client.HTTPConnection,
        resp: http.client.HTTPResponse,
        parts: SplitResult,
        dest: BinaryIO,
    ) -> None:
        import http.client

        total = 0
        declared = resp.getheader("Content-Length")
        try:
            if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                self._drop(parts)
                raise FetchError(f"too large: {declared} bytes (more than {self.policy.max_bytes})")
            while True:
                if self._stop.is_set():
                    self._drop(parts)
                    raise _Interrupted("interrupted")
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.policy.max_bytes:
                    self._drop(parts)
                    raise FetchError(f"too large: more than {self.policy.max_bytes} bytes")
                try:
                    dest.write(chunk)
                except OSError as exc:
                    raise LocalWriteError(exc) from exc
        except TimeoutError as exc:
            self._drop(parts)
            raise _Retryable(
                f"timed out after {self.policy.timeout:g} s reading from {_where(parts)}"
            ) from exc
        except http.client.IncompleteRead as exc:
            self._drop(parts)
            raise _Retryable(f"{_where(parts)} closed the connection mid-body") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop(parts)
            kind = type(exc).__name__
            raise _Retryable(f"connection error with {_where(parts)}: {kind}") from exc
        if declared and declared.isdigit() and total != int(declared):
            # http.client does not raise IncompleteRead for reads of a given size.
            self._drop(parts)
            raise _Retryable(f"{_where(parts)} closed the connection mid-body")
        if resp.will_close:
            self._drop(parts)
        resp.close()
