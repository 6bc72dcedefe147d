"""Run a pure function over items on a local pool or a Dask cluster; results in order.

Example::

    with WorkPool("processes", workers=4) as pool:
        for result in pool.map(read_part, plan.parts):
            ...
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["LOCAL_SCHEDULERS", "WorkPool", "check_scheduler"]

T = TypeVar("T")
R = TypeVar("R")

#: Schedulers that need no cluster; anything else is a Dask scheduler address.
LOCAL_SCHEDULERS = ("processes", "threads")


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` when it is ``processes``, ``threads`` or a ``tcp://HOST:PORT`` (or
    ``tls://``) address; else a ValueError saying what to give."""
    if scheduler in LOCAL_SCHEDULERS:
        return scheduler
    scheme, _, rest = scheduler.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme in ("tcp", "tls") and host and port.isdigit():
        return scheduler
    raise ValueError(
        f"scheduler {scheduler!r}: give processes, threads or a Dask scheduler's address "
        "such as tcp://10.0.0.5:8786"
    )


class WorkPool:
    """A local pool of ``workers`` processes or threads (one per CPU by default), or a
    client of the Dask scheduler at ``scheduler`` (its workers)."""

    def __init__(self, scheduler: str, workers: int | None = None) -> None:
        check_scheduler(scheduler)
        self.scheduler = scheduler
        self._executor: Executor | None = None
        self._client: Any = None
        if scheduler == "threads":
            self.width = workers or (os.cpu_count() or 1)
            self._executor = ThreadPoolExecutor(self.width)
        elif scheduler == "processes":
            if multiprocessing.current_process().daemon:
                raise ValueError(
                    "scheduler processes: this process is a daemonic worker (of a "
                    "multiprocessing pool or a Dask worker) and may not start processes; "
                    "use threads or a Dask scheduler's address"
                )
            self.width = workers or (os.cpu_count() or 1)
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self._executor = ProcessPoolExecutor(
                self.width, mp_context=multiprocessing.get_context(method)
            )
        else:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError(
                    "a Dask scheduler address needs the dask extra: "
                    "pip install 'clarifai-archive-toolkit[dask]'"
                ) from None
            try:
                self._client = Client(  # type: ignore[no-untyped-call]
                    scheduler, timeout="20s", set_as_default=False
                )
            except OSError as exc:
                raise ValueError(
                    f"scheduler {scheduler}: cannot connect ({exc}); is the Dask scheduler "
                    "running there?"
                ) from None
            found = len(self._client.scheduler_info().get("workers", {}))
            self.width = workers or max(found, 1)

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], *, ahead: int | None = None
    ) -> Iterator[R]:
        """``fn(item)`` for each item, in order, with at most ``ahead`` (default: twice
        the workers) submitted and not yet handed back. ``fn`` must be pure: a task a
        cluster runs again (its worker lost) gives the same result."""
        window = ahead or 2 * self.width
        run = uuid.uuid4().hex[:12]
        pending: deque[Any] = deque()
        todo = iter(enumerate(items))

        def submit(number: int, item: T) -> Any:
            if self._client is not None:
                name = getattr(fn, "__name__", "task")
                return self._client.submit(fn, item, key=f"{name}-{run}-{number:08d}", pure=False)
            assert self._executor is not None
            return self._executor.submit(fn, item)

        try:
            for number, item in todo:
                pending.append(submit(number, item))
                if len(pending) >= window:
                    break
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(submit(*nxt))
                yield result
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the local pool, or disconnect from the cluster (which keeps running)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> WorkPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
