"""How many downloads run at once: as many as asked, fewer while servers push back.

Additive increase, multiplicative decrease (as TCP does): when a server answers
429 Too Many Requests or 503 Service Unavailable, the limit halves; after ``limit``
downloads in a row succeed, it grows by one again, up to the number asked for. A burst
of push-backs from requests that all started before the last decrease counts once, so
one overloaded moment does not drive the limit to 1.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["Throttle"]


class Throttle:
    """A limit on requests in flight, shared by the download threads.

    Example::

        throttle = Throttle(64)
        with throttle.slot() as epoch:
            ...  # one request
        throttle.pushed_back(epoch)  # after a 429 or 503
    """

    def __init__(self, most: int) -> None:
        if most < 1:
            raise ValueError("most must be at least 1")
        self.most = most
        self._limit = most
        self._lowest = most
        self._in_flight = 0
        self._waiting = 0
        self._streak = 0
        self._epoch = 0
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return f"<Throttle {self._in_flight}/{self._limit} of {self.most}, {self._waiting} waiting>"

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return self._limit

    @property
    def waiting(self) -> int:
        """Requests waiting for room now."""
        return self._waiting

    @property
    def lowest(self) -> int:
        """The lowest the limit has been."""
        return self._lowest

    @contextlib.contextmanager
    def slot(self, stop: threading.Event | None = None) -> Iterator[int]:
        """Wait for room, hold it for one request; yields the epoch the request started in.

        Returns early (without a slot) only when ``stop`` is set; the caller checks it.
        """
        with self._cond:
            self._waiting += 1
            try:
                while self._in_flight >= self._limit:
                    if stop is not None and stop.is_set():
                        break
                    self._cond.wait(0.1)
            finally:
                self._waiting -= 1
            self._in_flight += 1
            epoch = self._epoch
        try:
            yield epoch
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()

    def pushed_back(self, epoch: int) -> bool:
        """A server answered 429/503 to a request started in ``epoch``; True if the limit fell."""
        with self._cond:
            self._streak = 0
            if epoch != self._epoch or self._limit == 1:
                return False
            self._limit = max(1, self._limit // 2)
            self._lowest = min(self._lowest, self._limit)
            self._epoch += 1
            return True

    def succeeded(self) -> None:
        """A request finished well: after ``limit`` in a row, allow one more in flight."""
        with self._cond:
            if self._limit >= self.most:
                return
            self._streak += 1
            if self._streak >= self._limit:
                self._streak = 0
                self._limit += 1
                self._cond.notify()
