"""What the web app serves: one archive, indexed in the background, and queries over it.

:class:`ArchiveBrowser` opens an archive and reads it once in a background thread,
recording where each input lies (its row: batch entry and position) and the version's
metrics. Pages of inputs are served from the rows indexed so far, so the first page is
ready as soon as the first batch entry is read. A filter (:class:`~toolkit.subset.FilterCriteria`)
or a similarity search ("more like this", :class:`~toolkit.index.SimilarityIndex`) is a
:class:`Query` whose matching rows fill in, also in the background.

Example::

    with ArchiveBrowser("clarifai-data-protobuf.zip") as browser:
        browser.wait_indexed()
        query = browser.query(FilterCriteria(concepts=("cat",)))
        query.wait()
        records = browser.inputs(query.rows[:20])
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import ArchiveReader, BatchEntry
from ..errors import InputNotFoundError, ToolkitError, param
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input, InputBatch
from ..metrics import Metrics, MetricsCounter
from ..subset import FilterCriteria

if TYPE_CHECKING:
    from ..index import SimilarityIndex

__all__ = ["ArchiveBrowser", "IndexProgress", "Query", "find_index_beside"]

log = logging.getLogger(__name__)

#: Parsed batch entries kept for serving pages and inputs.
_BATCH_CACHE = 8
#: Queries kept (the oldest is dropped and its scan stopped).
_QUERY_CACHE = 8
#: Hits of a similarity search kept, best first.
DEFAULT_SIMILAR_HITS = 2000
#: Longest a request waits for something that needs every row, in seconds.
WAIT_ALL_S = 10.0
#: Most inputs whose embeddings are indexed on start when no index is given.
AUTO_INDEX_MAX = 200_000


def find_index_beside(archive: Path) -> Path | None:
    """An index folder next to ``archive``: ``<stem>-index/`` or ``<stem>.index/`` holding
    an ``index.json`` (``clarifai-archive index build a.zip a-index`` makes the first)."""
    stem = archive.name[:-4] if archive.name.lower().endswith(".zip") else archive.name
    for name in (f"{stem}-index", f"{stem}.index"):
        folder = archive.with_name(name)
        if (folder / "index.json").is_file():
            return folder
    return None


@dataclass
class IndexProgress:
    """How far the background reading has got."""

    entries_done: int = 0
    entries_total: int = 0
    inputs: int = 0
    done: bool = False
    #: The error that stopped the reading, as one line; None while all is well.
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "entries_done": self.entries_done,
            "entries_total": self.entries_total,
            "inputs": self.inputs,
            "done": self.done,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Query:
    """The rows matching a filter, or ranked by similarity, filling in while it runs."""

    key: str
    kind: str
    #: Matching rows, in the archive's order (filter) or best first (similar).
    rows: array[int] = field(default_factory=lambda: array("q"))
    #: Scores of ``rows`` for a similarity search, else empty.
    scores: list[float] = field(default_factory=list)
    complete: bool = False
    error: str | None = None
    #: Inputs looked at so far.
    scanned: int = 0
    #: True when a similarity search kept only its best hits.
    truncated: bool = False
    description: dict[str, Any] = field(default_factory=dict)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def wait(self, timeout: float | None = None, *, rows: int | None = None) -> bool:
        """Wait until complete (or until ``rows`` rows are known); True when that happened."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self.complete and (rows is None or len(self.rows) < rows):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left if left is not None else 0.5)
        return True

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


class ArchiveBrowser:
    """An archive opened for browsing: rows indexed in the background, pages, queries.

    ``index`` is a similarity index (a folder or a loaded one) for "more like this";
    ``media_dir`` a folder of media files named as ``convert`` names them (the input id,
    made safe). ``progress`` is called from the background thread after each batch entry.
    """

    def __init__(
        self,
        archive: str | Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        index: str | Path | SimilarityIndex | None = None,
        progress: Callable[[IndexProgress], None] | None = None,
        name: str | None = None,
        auto_index: Path | None = None,
        auto_index_max: int = AUTO_INDEX_MAX,
    ) -> None:
        self.path = Path(archive)
        self.name = name or str(archive)
        self.limits = limits
        self._reader = ArchiveReader(self.path, limits=limits)
        self.flavour = self._reader.flavour
        self.entries: list[BatchEntry] = self._reader.entries
        self.ids: list[str] = []
        self._entry_of = array("l")
        self._pos_of = array("l")
        self._row_of: dict[str, int] = {}
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._batches: OrderedDict[int, InputBatch] = OrderedDict()
        self._queries: OrderedDict[str, Query] = OrderedDict()
        self._index_source = index
        self._index: SimilarityIndex | None = None
        self._index_error: str | None = None
        self._index_lock = threading.Lock()
        self._listeners: list[Callable[[IndexProgress], None]] = [progress] if progress else []
        self._auto_index = auto_index if index is None else None
        self._auto_index_max = auto_index_max
        #: "building", "built", "skipped: ..." or "failed: ..." for the index built on start.
        self.auto_index_state: str | None = None
        self.progress = IndexProgress(entries_total=len(self.entries))
        self._metrics: Metrics | None = None
        self._indexed = threading.Condition()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._index_rows, name="serve-index", daemon=True)
        self._thread.start()

    # -- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Stop the background work and close the archive."""
        self._stop.set()
        with self._lock:
            queries = list(self._queries.values())
        for query in queries:
            query._cancel.set()
        self._thread.join(timeout=10)
        with self._read_lock:
            self._reader.close()

    def __enter__(self) -> ArchiveBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the background index ------------------------------------------------------

    def _index_rows(self) -> None:
        counter = MetricsCounter()
        try:
            # The reader opened for pages is shared (a second one would read the zip's
            # directory again, which costs as much as the first page on a big archive).
            for entry in self.entries:
                if self._stop.is_set():
                    return
                with self._read_lock:
                    batch = self._reader.read_batch(entry)
                ids = [record.id for record in batch.inputs]
                with self._indexed:
                    start = len(self.ids)
                    for pos, input_id in enumerate(ids):
                        self._row_of.setdefault(input_id, start + pos)
                    self._entry_of.extend([entry.index] * len(ids))
                    self._pos_of.extend(range(len(ids)))
                    self.ids.extend(ids)
                    self.progress.entries_done = entry.index + 1
                    self.progress.inputs = len(self.ids)
                    self.progress.seconds = time.monotonic() - self._started
                    self._indexed.notify_all()
                self._tell()
                for record in batch.inputs:  # after the rows are served: pages first
                    counter.add(record)
            self._metrics = counter.result()
        except ToolkitError as exc:
            self.progress.error = str(exc)
            log.warning("reading %s stopped: %s", self.path, exc)
        except Exception as exc:  # a crash here must not go unnoticed in a daemon thread
            self.progress.error = f"{type(exc).__name__}: {exc}"
            log.exception("reading %s failed", self.path)
        finally:
            with self._indexed:
                self.progress.done = True
                self.progress.seconds = time.monotonic() - self._started
                self._indexed.notify_all()
            self._tell()
        if self._auto_index is not None and self._metrics is not None and not self._stop.is_set():
            self._build_small_index(self._auto_index)

    def _build_small_index(self, folder: Path) -> None:
        """Index the archive's own embeddings (exact search) when there are few enough."""
        metrics = self._metrics
        assert metrics is not None
        if not metrics.embeddings_count:
            self.auto_index_state = "skipped: the archive carries no embeddings"
            return
        if metrics.inputs_count > self._auto_index_max:
            self.auto_index_state = (
                f"skipped: over {self._auto_index_max} inputs; build one with "
                f"'clarifai-archive index build' and pass {param('index', ...)}"
            )
            return
        from ..index import build_index

        self.auto_index_state = "building"
        try:
            index = build_index([self.path], folder, kind="flat", skip_bad=True, limits=self.limits)
        except (ToolkitError, ValueError, OSError) as exc:
            self.auto_index_state = f"failed: {exc}"
            return
        except Exception as exc:  # a daemon thread: say it, never raise into nowhere
            self.auto_index_state = f"failed: {type(exc).__name__}: {exc}"
            log.exception("indexing %s failed", self.path)
            return
        self.set_index(index)
        self.auto_index_state = "built"

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener(self.progress)

    def add_progress_listener(self, listener: Callable[[IndexProgress], None]) -> None:
        """Call ``listener`` after each batch entry read (at once when reading is over)."""
        with self._indexed:
            self._listeners.append(listener)
            done = self.progress.done
        if done:
            listener(self.progress)

    def wait_indexed(self, timeout: float | None = None, *, rows: int | None = None) -> bool:
        """Wait until every row is indexed (or ``rows`` rows are); True when that happened."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._indexed:
            while not self.progress.done and (rows is None or len(self.ids) < rows):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._indexed.wait(left if left is not None else 0.5)
        return True

    def require_indexed(self, timeout: float = WAIT_ALL_S) -> None:
        """Wait up to ``timeout`` s for every row; else a :class:`ToolkitError` saying how far
        the reading is (what needs every row asks again later)."""
        if not self.wait_indexed(timeout):
            p = self.progress
            raise ToolkitError(
                f"{self.name}: still reading the archive ({p.inputs} inputs, {p.entries_done} of "
                f"{p.entries_total} batch entries); try again when it is done"
            )

    @property
    def metrics(self) -> Metrics | None:
        """The version's metrics (as ``info`` computes them) once the reading is done."""
        return self._metrics

    def row_of(self, input_id: str) -> int:
        """The row of ``input_id`` (the first one when an id is held twice)."""
        row = self._row_of.get(input_id)
        if row is None:
            raise InputNotFoundError(f"{self.name}: no input with id {input_id!r}")
        return row

    @property
    def row_count(self) -> int:
        """Rows indexed so far."""
        return len(self.ids)

    # -- reading inputs --------------------------------------------------------------

    def _batch(self, entry_index: int) -> InputBatch:
        with self._read_lock:
            batch = self._batches.get(entry_index)
            if batch is not None:
                self._batches.move_to_end(entry_index)
                return batch
            batch = self._reader.read_batch(self.entries[entry_index])
            self._batches[entry_index] = batch
            while len(self._batches) > _BATCH_CACHE:
                self._batches.popitem(last=False)
            return batch

    def input_at(self, row: int) -> Input:
        """The input in ``row``."""
        if not 0 <= row < len(self.ids):
            raise InputNotFoundError(f"{self.name}: no input in row {row}")
        record: Input = self._batch(self._entry_of[row]).inputs[self._pos_of[row]]
        return record

    def inputs(self, rows: Sequence[int]) -> list[Input]:
        """The inputs in ``rows``, in that order (waiting for rows a filter found before the
        background reading got there)."""
        if rows:
            self.wait_indexed(rows=max(rows) + 1)
        return [self.input_at(row) for row in rows]

    def ids_of(self, rows: Sequence[int]) -> list[str]:
        """The input ids of ``rows`` (waiting for them as :meth:`inputs` does)."""
        if rows:
            self.wait_indexed(rows=max(rows) + 1)
        ids = self.ids
        return [ids[row] for row in rows]

    # -- queries ---------------------------------------------------------------------

    def _remember(self, query: Query) -> Query:
        with self._lock:
            old = self._queries.get(query.key)
            if old is not None and old.error is None:
                self._queries.move_to_end(query.key)
                return old
            self._queries[query.key] = query
            while len(self._queries) > _QUERY_CACHE:
                _, dropped = self._queries.popitem(last=False)
                dropped._cancel.set()
        return query

    def query(self, criteria: FilterCriteria) -> Query:
        """The rows matching ``criteria`` (the same rules as ``clarifai-archive filter``),
        found by a background scan; the same criteria give the same running query."""
        key = "filter:" + repr(sorted(criteria.to_dict().items()))
        with self._lock:
            found = self._queries.get(key)
        if found is not None:
            return self._remember(found)
        query = self._remember(Query(key=key, kind="filter", description=criteria.to_dict()))
        if query.complete or query.rows or query.scanned:
            return query
        threading.Thread(
            target=self._scan_query, args=(query, criteria), name="serve-filter", daemon=True
        ).start()
        return query

    def _scan_query(self, query: Query, criteria: FilterCriteria) -> None:
        row = 0
        try:
            with ArchiveReader(self.path, limits=self.limits) as reader:
                for _entry, batch in reader.iter_batches():
                    if query._cancel.is_set() or self._stop.is_set():
                        query.error = "stopped"
                        return
                    found = [
                        row + i for i, record in enumerate(batch.inputs) if criteria.matches(record)
                    ]
                    row += len(batch.inputs)
                    query.rows.extend(found)
                    query.scanned = row
                    query._notify()
        except ToolkitError as exc:
            query.error = str(exc)
        except Exception as exc:
            query.error = f"{type(exc).__name__}: {exc}"
            log.exception("filter scan of %s failed", self.path)
        finally:
            query.complete = True
            query._notify()

    # -- similarity ------------------------------------------------------------------

    def similarity_index(self) -> SimilarityIndex | None:
        """The similarity index, loaded on first use; None when there is none."""
        with self._index_lock:
            if self._index is not None or self._index_source is None:
                return self._index
            if self._index_error is not None:
                return None
            from ..index import SimilarityIndex

            source = self._index_source
            try:
                self._index = (
                    source if isinstance(source, SimilarityIndex) else SimilarityIndex.load(source)
                )
            except ToolkitError as exc:
                self._index_error = str(exc)
                return None
            return self._index

    @property
    def index_error(self) -> str | None:
        """Why the similarity index could not be loaded, if it could not."""
        return self._index_error

    def set_index(self, index: str | Path | SimilarityIndex) -> None:
        """Use this similarity index from now on (e.g. one built after start)."""
        with self._index_lock:
            self._index_source = index
            self._index = None
            self._index_error = None

    def similar(self, input_id: str, *, hits: int = DEFAULT_SIMILAR_HITS) -> Query:
        """The rows most similar to ``input_id``, best first (the input itself left out),
        with their scores; at most ``hits`` of them."""
        index = self.similarity_index()
        if index is None and self._auto_index is not None:
            self._thread.join()  # the index being built on start
            index = self.similarity_index()
        if index is None:
            if self.auto_index_state and not self.auto_index_state.startswith("built"):
                raise ToolkitError(f"{self.name}: no similarity index ({self.auto_index_state})")
            if self._index_error:
                raise ToolkitError(self._index_error)
            hint = "index=DIR"
            raise ToolkitError(
                f"{self.name}: no similarity index; give one with {hint} (made by "
                "'clarifai-archive index build')",
                params=[hint],
            )
        key = f"similar:{input_id!r}:{hits}"
        with self._lock:
            found = self._queries.get(key)
        if found is not None:
            return self._remember(found)
        self.require_indexed()
        query = Query(key=key, kind="similar", description={"like": input_id})
        if input_id not in index:
            raise InputNotFoundError(
                f"{index.path}: input {input_id!r} is not in the similarity index (it has no "
                "embedding, or the index was built from another archive)"
            )
        for hit in index.rank_all(input_id):
            row = self._row_of.get(hit.id)
            if row is None:
                continue
            if len(query.rows) == hits:
                query.truncated = True
                break
            query.rows.append(row)
            query.scores.append(hit.score)
        query.scanned = len(self.ids)
        query.complete = True
        return self._remember(query)
