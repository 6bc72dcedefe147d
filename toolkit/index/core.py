"""Build, load, search and change a similarity index over an archive's embeddings.

Example::

    from toolkit.index import SimilarityIndex, build_index

    build_index(["clarifai-data-protobuf.zip"], "my-index")
    index = SimilarityIndex.load("my-index")
    for hit in index.search_like(["img-0007"], k=5)[0]:
        print(hit.rank, hit.id, round(hit.score, 3))
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .._atomic import atomic_dir
from .._outputs import check_outputs
from ..archive import ArchiveReader
from ..errors import (
    ArchiveError,
    IndexMismatchError,
    InputNotFoundError,
    OutputError,
    SchemaError,
    param,
)
from ..limits import DEFAULT_LIMITS, Limits
from ..subset import FilterCriteria
from . import _engine as engine
from ._collect import (
    Collector,
    as_paths,
    collect,
    embedding_array,
    prepare_rows,
    prepare_vector,
)
from ._select import Selection, filtered_search, selected_scores
from ._store import (
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_BYTES,
    IDS_FILE,
    INDEX_FILE,
    IVFDATA_FILE,
    SIDECAR_FILE,
    VECTORS_FILE,
    VectorWriter,
    crc32_file,
    file_record,
    open_vectors,
    read_ids,
    read_sidecar,
    sha256_file,
    write_ids,
    write_sidecar,
)

__all__ = [
    "ChangeReport",
    "Hit",
    "SimilarityIndex",
    "add_to_index",
    "build_index",
    "build_index_from_arrays",
    "parse_size",
    "remove_from_index",
]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Sources = PathLike | Iterable[PathLike]
Progress = Callable[[int], None]
Note = Callable[[str], None]
#: What ``where=`` takes: criteria evaluated on the archives, or rows already selected.
Where = FilterCriteria | Selection | None
#: Selections a loaded index keeps for criteria it was searched with.
_CACHED_SELECTIONS = 8

_FAISS_CLASS = {
    "flat": "IndexFlat",
    "ivf": "IndexIVFFlat",
    "ivfpq": "IndexIVFPQFastScan",
    "hnsw": "IndexHNSWFlat",
}


@dataclass(frozen=True)
class Hit:
    """One search result: the input id, its score (higher is more similar) and its rank from 1."""

    id: str
    score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        """``{"rank": 1, "id": "...", "score": 0.93}``."""
        return {"rank": self.rank, "id": self.id, "score": round(float(self.score), 6)}


@dataclass(frozen=True)
class ChangeReport:
    """What ``index add`` / ``index remove`` did."""

    added: int
    replaced: int
    unchanged: int
    removed: int
    skipped_no_embedding: int
    skipped_bad: int
    count: int
    recall_at_10: float | None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return dict(vars(self))


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes in a size like ``4GB``, ``512M``, ``1.5GiB`` or ``1000000`` (K/M/G/T: powers of 1024).

    Example::

        assert parse_size("4GB") == 4 * 1024**3
    """
    value = text.strip().lower().replace(" ", "")
    for suffix in ("ib", "b"):
        if value.endswith(suffix) and value[: -len(suffix)][-1:].isalpha() | (suffix == "b"):
            value = value[: -len(suffix)]
            break
    unit = value[-1:] if value[-1:].isalpha() else ""
    number = value[: len(value) - len(unit)]
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size; write it like 4GB, 512MB or 1000000") from None
    if unit not in _UNITS or amount <= 0 or not np.isfinite(amount):
        raise ValueError(f"{text!r} is not a size; write it like 4GB, 512MB or 1000000")
    return int(amount * _UNITS[unit])


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _check_query_matrix(queries: Any, dimension: int, metric: str, where: str) -> np.ndarray:
    array = np.asarray(queries)
    if array.dtype.kind not in "fiub":
        array = np.asarray(array, dtype=np.float32)  # raises for what is no number
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise IndexMismatchError(
            f"{where}: queries must be one vector (d,) or a matrix (q, d), got shape {array.shape}"
        )
    if array.shape[1] != dimension:
        raise IndexMismatchError(
            f"{where}: the query has {array.shape[1]} dimensions but the index has {dimension}; "
            "query with vectors from the same embedding model"
        )
    rows, _usable, problems = prepare_rows(array, metric)
    for row, reason in problems.items():
        if reason == "is all zeros" and metric != "cosine":
            continue  # a zero query is fine for ip and l2
        extra = ", which has no direction for cosine similarity" if reason == "is all zeros" else ""
        raise SchemaError(f"{where}: query {row} {reason}{extra}")
    return np.ascontiguousarray(rows, dtype=np.float32)


def _check_faiss_file(target: Path, recorded: dict[str, Any], where: str) -> None:
    """Match ``index.faiss`` with its checksum in the sidecar before FAISS reads it.

    FAISS's reader trusts the sizes inside the file: a damaged 141-byte file made it
    allocate 6 GB for 13 s before failing. The CRC-32 (newer sidecars) costs about what
    reading the file does; older sidecars have only the SHA-256, which is checked instead.
    """
    if "crc32" in recorded:
        same = crc32_file(target) == recorded["crc32"]
    elif recorded.get("sha256"):
        same = sha256_file(target) == recorded["sha256"]
    else:
        return
    if not same:
        raise IndexMismatchError(
            f"{where}: {INDEX_FILE} does not match its checksum in {SIDECAR_FILE}; it was "
            "changed or damaged after the index was built, rebuild the index"
        )


class SimilarityIndex:
    """A loaded index folder: ids, memory-mapped vectors, the FAISS index and its sidecar.

    Results carry input ids and scores, never row numbers. A score is the cosine
    similarity (metric ``cosine``), the inner product (``ip``) or the negated
    Euclidean distance (``l2``): higher is always more similar.

    Example::

        index = SimilarityIndex.load("my-index")
        hits = index.search(np.load("query.npy"), k=10)[0]
    """

    def __init__(
        self,
        path: Path,
        sidecar: dict[str, Any],
        ids: list[str],
        vectors: np.ndarray,
        faiss_index: faiss.Index,
    ) -> None:
        self.path = path
        self.sidecar = sidecar
        self.ids = ids
        self.vectors = vectors
        self.faiss_index = faiss_index
        self._rows: dict[str, int] | None = None
        self._lookups = 0
        self._selections: dict[tuple[FilterCriteria, tuple[str, ...]], Selection] = {}

    # -- loading -------------------------------------------------------------------

    @classmethod
    def load(cls, path: PathLike, *, verify: bool = False) -> SimilarityIndex:
        """Open an index folder, checking the sidecar against every file before any query.

        Sizes, shapes, counts, dimension, metric and kind are always checked;
        ``verify=True`` also recomputes the SHA-256 of every file.
        """
        folder = Path(path)
        sidecar = read_sidecar(folder)
        engine.configure_threads()
        dimension, count = sidecar["dimension"], sidecar["count"]
        metric, kind = sidecar["metric"], sidecar["kind"]
        where = str(folder)
        if metric not in engine.METRICS or kind not in _FAISS_CLASS:
            raise IndexMismatchError(f"{where}: unknown metric {metric!r} or kind {kind!r}")
        files = sidecar.get("files", {})
        # An index built from shards keeps its lists in index.ivfdata, mapped on load.
        ondisk = IVFDATA_FILE in files
        for name in (VECTORS_FILE, IDS_FILE, INDEX_FILE) + ((IVFDATA_FILE,) if ondisk else ()):
            target = folder / name
            if not target.is_file():
                raise IndexMismatchError(f"{where}: {name} is missing; rebuild the index")
            recorded = files.get(name, {})
            size = target.stat().st_size
            if recorded.get("bytes") not in (None, size):
                raise IndexMismatchError(
                    f"{where}: {name} is {size} bytes but the sidecar records "
                    f"{recorded['bytes']}; it was changed after the index was built, rebuild it"
                )
            if name == INDEX_FILE and not verify:
                _check_faiss_file(target, recorded, where)
            if verify:
                digest_key = "rows_sha256" if name == VECTORS_FILE else "sha256"
                skip = HEADER_BYTES if name == VECTORS_FILE else 0
                if recorded.get(digest_key) and sha256_file(target, skip=skip) != recorded.get(
                    digest_key
                ):
                    raise IndexMismatchError(
                        f"{where}: {name} does not match its checksum in {SIDECAR_FILE}; "
                        "rebuild the index"
                    )
        vectors = open_vectors(folder / VECTORS_FILE)
        if vectors.shape != (count, dimension):
            raise IndexMismatchError(
                f"{where}: {VECTORS_FILE} holds {vectors.shape[0]} x {vectors.shape[1]} "
                f"vectors but the sidecar says {count} x {dimension}; rebuild the index"
            )
        ids = read_ids(folder / IDS_FILE)
        if len(ids) != count:
            raise IndexMismatchError(
                f"{where}: {IDS_FILE} lists {len(ids)} ids but the sidecar says {count}; "
                "rebuild the index"
            )
        if verify and len(set(ids)) != len(ids):
            raise IndexMismatchError(f"{where}: {IDS_FILE} lists an id twice; rebuild the index")
        try:
            if ondisk:  # the lists are mapped from index.ivfdata beside index.faiss
                from ._ondisk import quiet_c_stdout

                with quiet_c_stdout():
                    faiss_index = faiss.read_index(
                        str(folder / INDEX_FILE), faiss.IO_FLAG_ONDISK_SAME_DIR
                    )
            else:
                faiss_index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "?"
            raise IndexMismatchError(
                f"{where}: {INDEX_FILE} is not a readable FAISS index ({first}); rebuild the index"
            ) from None
        expected_class = _FAISS_CLASS[kind]
        actual_class = type(faiss.downcast_index(faiss_index)).__name__
        if not actual_class.startswith(expected_class):
            raise IndexMismatchError(
                f"{where}: {INDEX_FILE} is a {actual_class} but the sidecar says kind {kind!r}; "
                "rebuild the index"
            )
        if faiss_index.d != dimension or faiss_index.ntotal != count:
            raise IndexMismatchError(
                f"{where}: {INDEX_FILE} holds {faiss_index.ntotal} x {faiss_index.d} but the "
                f"sidecar says {count} x {dimension}; rebuild the index"
            )
        if faiss_index.metric_type != engine.faiss_metric(metric):
            raise IndexMismatchError(
                f"{where}: {INDEX_FILE} uses another metric than the sidecar's {metric!r}; "
                "rebuild the index"
            )
        return cls(folder, sidecar, ids, vectors, faiss_index)

    # -- properties ------------------------------------------------------------------

    @property
    def dimension(self) -> int:
        """Dimensions of every vector."""
        return int(self.sidecar["dimension"])

    @property
    def metric(self) -> str:
        """``cosine``, ``ip`` or ``l2``."""
        return str(self.sidecar["metric"])

    @property
    def kind(self) -> str:
        """``flat``, ``ivf``, ``ivfpq`` or ``hnsw``."""
        return str(self.sidecar["kind"])

    @property
    def search_params(self) -> engine.SearchParams:
        """The tuned search settings recorded in the sidecar."""
        return engine.SearchParams.from_dict(self.sidecar.get("search_params"))

    @property
    def sources(self) -> list[dict[str, Any]]:
        """The archives the vectors came from (path, sha256, bytes, counts)."""
        return list(self.sidecar.get("sources", []))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, input_id: object) -> bool:
        if self._rows is None and self._lookups < 16:
            self._lookups += 1
            return input_id in self.ids
        return input_id in self._row_map()

    def __repr__(self) -> str:
        return (
            f"SimilarityIndex({str(self.path)!r}, kind={self.kind!r}, metric={self.metric!r}, "
            f"count={len(self)}, dimension={self.dimension})"
        )

    def _row_map(self) -> dict[str, int]:
        if self._rows is None:
            rows = {input_id: row for row, input_id in enumerate(self.ids)}
            if len(rows) != len(self.ids):
                raise IndexMismatchError(
                    f"{self.path}: {IDS_FILE} lists an id twice; rebuild the index"
                )
            self._rows = rows
        return self._rows

    def row(self, input_id: str) -> int:
        """The row of an input id (InputNotFoundError when it is not indexed)."""
        if self._rows is None and self._lookups < 16:
            # A few lookups scan the list (milliseconds) rather than build the map
            # (a tenth of a second per million ids): a one-query search starts faster.
            self._lookups += 1
            try:
                return self.ids.index(input_id)
            except ValueError:
                row = None
        else:
            row = self._row_map().get(input_id)
        if row is None:
            raise InputNotFoundError(
                f"{self.path}: no input {input_id!r} in the index (it may have had no embedding; "
                "see 'skipped' in index.json)"
            )
        return row

    def vector(self, input_id: str) -> np.ndarray:
        """The stored vector of an input (normalised for cosine)."""
        return np.array(self.vectors[self.row(input_id)])

    # -- filtering ------------------------------------------------------------------

    def select(
        self,
        where: FilterCriteria,
        *,
        archives: Sequence[PathLike] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Selection:
        """The rows whose inputs match ``where``, read from ``archives`` (by default the
        archives the index was built from, as recorded in its sidecar).

        The index stores ids only, so the criteria are evaluated on the archives' inputs
        and each matching id is mapped to its row (ids without a row are skipped).
        ``limit`` is ignored. Criteria that only name ``ids`` need no archive. The
        selection is kept for the next search with the same criteria.

        Example::

            cats = index.select(FilterCriteria(concepts=("cat",)))
            hits = index.search(query, k=10, where=cats)
        """
        criteria = dataclasses.replace(where, limit=None)
        paths = self._filter_archives(archives) if not _ids_only(criteria) else []
        key = (criteria, tuple(str(p) for p in paths))
        cached = self._selections.get(key)
        if cached is not None:
            return cached
        rows_of = self._row_map()
        if _ids_only(criteria):
            assert criteria.ids is not None
            rows = [rows_of[i] for i in criteria.ids if i in rows_of]
        else:
            found: set[int] = set()
            for path in paths:
                with ArchiveReader(path, limits=limits) as reader:
                    for _entry, batch in reader.iter_batches():
                        for record in batch.inputs:
                            row = rows_of.get(record.id)
                            if row is not None and criteria.matches(record):
                                found.add(row)
            rows = sorted(found)
        selection = Selection(rows, len(self))
        if len(self._selections) >= _CACHED_SELECTIONS:
            self._selections.pop(next(iter(self._selections)))
        self._selections[key] = selection
        return selection

    def _filter_archives(self, archives: Sequence[PathLike] | None) -> list[Path]:
        if archives is not None:
            paths = [Path(p) for p in archives]
            if not paths:
                raise ValueError("give at least one archive to evaluate the criteria on")
            return paths
        paths = [Path(s["path"]) for s in self.sources if s.get("path")]
        if not paths:
            raise ArchiveError(
                f"{self.path}: the index records no source archive (built from arrays), so "
                f"filters cannot be evaluated; give the archive ({_GIVE_ARCHIVES})",
                params=[_GIVE_ARCHIVES],
            )
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise ArchiveError(
                f"{self.path}: the archive {missing[0]} it was built from is gone, so filters "
                f"cannot be evaluated; give the archive ({_GIVE_ARCHIVES})",
                params=[_GIVE_ARCHIVES],
            )
        return paths

    def _selection(
        self, where: Where, archives: Sequence[PathLike] | None, limits: Limits
    ) -> Selection | None:
        if where is None or isinstance(where, Selection):
            if where is not None and where.total != len(self):
                raise IndexMismatchError(
                    f"{self.path}: the selection was made for {where.total} rows but the index "
                    f"holds {len(self)}; select again"
                )
            return where
        if where.is_empty:
            return None
        return self.select(where, archives=archives, limits=limits)

    def _run_search(
        self, matrix: np.ndarray, k: int, params: engine.SearchParams, selection: Selection | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if selection is None:
            return engine.ann_search(
                self.faiss_index, self.kind, self.vectors, matrix, k, params, self.metric
            )
        return filtered_search(
            self.faiss_index, self.kind, self.vectors, matrix, k, params, self.metric, selection
        )

    # -- searching ------------------------------------------------------------------

    def _params(
        self, nprobe: int | None, rerank: int | None, ef_search: int | None
    ) -> engine.SearchParams:
        base = self.search_params
        return engine.SearchParams(
            nprobe=nprobe or base.nprobe,
            rerank=rerank or base.rerank,
            ef_search=ef_search or base.ef_search,
        )

    def _hits(
        self,
        scores: np.ndarray,
        rows: np.ndarray,
        k: int,
        min_score: float | None,
        exclude: Sequence[set[int]] | None,
    ) -> list[list[Hit]]:
        if min_score is not None and not math.isfinite(min_score):
            raise ValueError(f"min_score must be a finite number, not {min_score!r}")
        out: list[list[Hit]] = []
        ids = self.ids
        for qi in range(rows.shape[0]):
            hits: list[Hit] = []
            skip = exclude[qi] if exclude else ()
            for score, row in zip(scores[qi], rows[qi], strict=True):
                if row < 0 or row in skip:
                    continue
                if min_score is not None and score < min_score:
                    break
                hits.append(Hit(ids[row], float(score), len(hits) + 1))
                if len(hits) == k:
                    break
            out.append(hits)
        return out

    def search(
        self,
        queries: Any,
        k: int = 10,
        *,
        min_score: float | None = None,
        exclude_ids: Iterable[str] = (),
        nprobe: int | None = None,
        rerank: int | None = None,
        ef_search: int | None = None,
        where: Where = None,
        archives: Sequence[PathLike] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> list[list[Hit]]:
        """The k nearest inputs of each query vector ((d,) or (q, d)), best first.

        ``min_score`` keeps hits scoring at least that much; ``exclude_ids`` are
        left out of every query's results. ``nprobe``, ``rerank`` (candidates per
        result for ``ivfpq``) and ``ef_search`` override the tuned settings.
        ``where`` (a :class:`~toolkit.subset.FilterCriteria`, evaluated on
        ``archives`` as :meth:`select` does, or a :class:`Selection`) restricts the
        search to the inputs that match, before the nearest ones are chosen: ``k``
        hits are the k most similar matching inputs.

        Example::

            hits = index.search(query, k=10, where=FilterCriteria(concepts=("cat",)))[0]
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        matrix = _check_query_matrix(queries, self.dimension, self.metric, str(self.path))
        selection = self._selection(where, archives, limits)
        skip = set()
        for input_id in exclude_ids:
            if input_id in self:
                skip.add(self.row(input_id))
        scores, rows = self._run_search(
            matrix, k + len(skip), self._params(nprobe, rerank, ef_search), selection
        )
        return self._hits(scores, rows, k, min_score, [skip] * len(matrix) if skip else None)

    def search_like(
        self,
        input_ids: Sequence[str],
        k: int = 10,
        *,
        min_score: float | None = None,
        nprobe: int | None = None,
        rerank: int | None = None,
        ef_search: int | None = None,
        where: Where = None,
        archives: Sequence[PathLike] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> list[list[Hit]]:
        """The k nearest inputs of each given input (one batch), each query itself left out.

        ``where`` restricts the hits to matching inputs, as in :meth:`search` (the
        queries themselves need not match).

        Example::

            hits = index.search_like(["img-0007", "img-0017"], k=5)
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        rows = [self.row(i) for i in input_ids]
        if not rows:
            return []
        selection = self._selection(where, archives, limits)
        matrix = np.ascontiguousarray(self.vectors[np.asarray(rows)], dtype=np.float32)
        scores, found = self._run_search(
            matrix, k + 1, self._params(nprobe, rerank, ef_search), selection
        )
        return self._hits(scores, found, k, min_score, [{r} for r in rows])

    def exact_scores(self, query: Any, *, block: int = 65536) -> np.ndarray:
        """Exact scores of every row against one query vector, in row order."""
        matrix = _check_query_matrix(query, self.dimension, self.metric, str(self.path))
        if matrix.shape[0] != 1:
            raise IndexMismatchError(f"{self.path}: give one query vector, not {matrix.shape[0]}")
        out = np.empty(len(self), dtype=np.float32)
        q = matrix[0]
        # A damaged vectors.npy (values no index build writes) gives NaN or infinite
        # scores: an error naming the folder, not a numpy warning and a meaningless order.
        with np.errstate(invalid="ignore", over="ignore"):
            for start, rows in engine.iter_blocks(self.vectors, block):
                if self.metric == "l2":
                    out[start : start + len(rows)] = -np.sqrt(
                        np.maximum(((rows - q) ** 2).sum(axis=1), 0.0)
                    )
                else:
                    out[start : start + len(rows)] = rows @ q
        if not np.isfinite(out).all():
            raise IndexMismatchError(
                f"{self.path}: vectors.npy holds values an index build never writes (NaN or "
                "infinite scores); the index folder is damaged: build it again"
            )
        return out

    def rank_all(
        self,
        query: str | Any,
        *,
        where: Where = None,
        archives: Sequence[PathLike] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Iterator[Hit]:
        """Every indexed input ranked by exact similarity to ``query`` (an id or a vector).

        When ``query`` is an id, that input itself is left out. Ties keep row order.
        ``where`` ranks only the matching inputs, as in :meth:`search`.

        Example::

            for hit in index.rank_all("img-0007"):
                print(hit.rank, hit.id, hit.score)
        """
        own = -1
        if isinstance(query, str):
            own = self.row(query)
            query = np.array(self.vectors[own])
        selection = self._selection(where, archives, limits)
        if selection is None:
            scores = self.exact_scores(query)
            order = np.argsort(-scores, kind="stable")
            rows_in_order = order
            scores_in_order = scores[order]
        else:
            matrix = _check_query_matrix(query, self.dimension, self.metric, str(self.path))
            picked = selected_scores(self.vectors, selection, matrix[0], self.metric)
            order = np.argsort(-picked, kind="stable")
            rows_in_order = selection.rows[order]
            scores_in_order = picked[order]
        rank = 0
        ids = self.ids
        for row, score in zip(rows_in_order.tolist(), scores_in_order.tolist(), strict=True):
            if row == own:
                continue
            rank += 1
            yield Hit(ids[row], float(score), rank)


#: How errors ask for the archives to evaluate filters on (the CLI: ``--archive ARCHIVE``).
_GIVE_ARCHIVES = "archives=ARCHIVE"


def _ids_only(criteria: FilterCriteria) -> bool:
    """True when the criteria are an id set and nothing else (no archive needed)."""
    return criteria.ids is not None and dataclasses.replace(criteria, ids=None).is_empty


# -- building --------------------------------------------------------------------------


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")


def _sidecar(
    *,
    plan: engine.Plan,
    requested_kind: str,
    metric: str,
    dimension: int,
    count: int,
    embedding: int,
    memory_budget: int | None,
    target: float,
    tuning: engine.Tuning,
    counts: dict[str, int],
    sources: list[dict[str, Any]],
    seed: int,
    timings: dict[str, float],
) -> dict[str, Any]:
    from .. import __version__ as toolkit_version

    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "toolkit_version": toolkit_version,
        "faiss_version": faiss.__version__,
        "created_at": _now(),
        "dimension": dimension,
        "metric": metric,
        "normalized": metric == "cosine",
        "score": {
            "cosine": "cosine similarity (higher is more similar)",
            "ip": "inner product (higher is more similar)",
            "l2": "negated Euclidean distance (higher is more similar)",
        }[metric],
        "kind": plan.kind,
        "requested_kind": requested_kind,
        "choice": plan.reason,
        "params": plan.params(),
        "search_params": tuning.params.to_dict(),
        "estimated_index_bytes": plan.estimated_bytes,
        "memory_budget": memory_budget,
        "embedding": embedding,
        "count": count,
        "counts": counts,
        "tuning": tuning.to_dict(target),
        "seed": seed,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "sources": sources,
        "history": [],
        "files": {},
    }


def _finish_folder(
    folder: Path, sidecar: dict[str, Any], faiss_index: faiss.Index, rows_sha256: str | None
) -> None:
    try:
        faiss.write_index(faiss_index, str(folder / INDEX_FILE))
    except RuntimeError as exc:
        raise OutputError(f"{folder}: cannot write {INDEX_FILE} ({exc})") from None
    sidecar["files"] = {
        VECTORS_FILE: file_record(folder / VECTORS_FILE, rows_sha256),
        IDS_FILE: file_record(folder / IDS_FILE),
        INDEX_FILE: file_record(folder / INDEX_FILE),
    }
    write_sidecar(folder / SIDECAR_FILE, sidecar)


def _check_out_dir(out_dir: Path, sources: Sequence[Path], *, force: bool) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputError(f"{out_dir}: exists and is not a folder; give a new folder name")
        if any(out_dir.iterdir()):
            if not (out_dir / SIDECAR_FILE).is_file():
                raise OutputError(
                    f"{out_dir}: exists and is not an index folder; give a new folder name"
                )
            if not force:
                hint = param("force")
                raise OutputError(
                    f"{out_dir}: an index is already there; pass {hint} to replace it, or use "
                    "'clarifai-archive index add' to add inputs to it",
                    params=[hint],
                )
    check_outputs({"-o": out_dir}, sources, existing_ok={"-o"})


def build_index(
    sources: Sources,
    out_dir: PathLike,
    *,
    kind: str = "auto",
    metric: str = "cosine",
    memory_budget: int | None = None,
    embedding: int = 0,
    skip_bad: bool = False,
    target_recall: float = 0.95,
    flat_max: int = engine.FLAT_MAX,
    seed: int = 0,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
    note: Note | None = None,
) -> SimilarityIndex:
    """Index the embeddings of one or more archives into the folder ``out_dir``.

    ``kind`` is ``auto`` (exact ``flat`` below ``flat_max`` vectors, else ``ivfpq``:
    IVF with 4-bit PQ fast-scan codes and exact re-ranking, codes shrunk to fit
    ``memory_budget`` bytes), ``flat``, ``ivf``, ``ivfpq`` or ``hnsw``. The search
    settings are tuned until recall@10 on held-out queries reaches ``target_recall``;
    the recall reached is recorded in ``index.json``. Inputs without embedding
    number ``embedding`` are counted and skipped; NaN, zero, empty or
    wrong-sized vectors raise :class:`SchemaError` unless ``skip_bad``. The folder
    is written under a temporary name and renamed when complete. ``progress`` is
    called with the inputs read per batch, ``note`` with a line per stage.

    Example::

        index = build_index(["a.zip", "b.zip"], "my-index", memory_budget=parse_size("4GB"))
    """
    _check_choice(kind, engine.KINDS, "kind")
    _check_choice(metric, engine.METRICS, "metric")
    if embedding < 0:
        raise ValueError("embedding must be 0 or more")
    paths = as_paths(sources)
    if not paths:
        raise ValueError("give at least one archive")
    out = Path(out_dir)
    _check_out_dir(out, paths, force=force)

    def feed(collector: Collector) -> list[dict[str, Any]]:
        # The archives are hashed while FAISS works (see _build), not while reading.
        records = collect(paths, collector, limits=limits, progress=progress, hash_sources=False)
        collector.check(paths)
        return records

    def nothing(stats: Any) -> SchemaError:
        names = ", ".join(str(p) for p in paths)
        detail = (
            f"{stats.no_embedding} of {stats.inputs_read} inputs have no embedding "
            f"number {embedding}"
            if stats.inputs_read
            else "no inputs"
        )
        other = param("embedding", ...)
        return SchemaError(
            f"{names}: nothing to index ({detail}); export the dataset version with "
            f"embeddings included, or choose another one with {other}",
            params=[other],
        )

    settings = _BuildSettings(
        kind=kind,
        metric=metric,
        memory_budget=memory_budget,
        embedding=embedding,
        skip_bad=skip_bad,
        target_recall=target_recall,
        flat_max=flat_max,
        seed=seed,
        note=note,
    )
    return _build(out, feed, nothing, settings)


def build_index_from_arrays(
    vectors: np.ndarray,
    ids: Sequence[str],
    out_dir: PathLike,
    *,
    kind: str = "auto",
    metric: str = "cosine",
    memory_budget: int | None = None,
    skip_bad: bool = False,
    target_recall: float = 0.95,
    flat_max: int = engine.FLAT_MAX,
    seed: int = 0,
    force: bool = False,
    note: Note | None = None,
) -> SimilarityIndex:
    """Index a ``(n, d)`` matrix (a memory map is fine) whose rows are the inputs ``ids``.

    Everything else is as :func:`build_index`: same checks, kinds, tuning and folder;
    the sidecar records an ``arrays`` source instead of archives.

    Example::

        index = build_index_from_arrays(np.load("emb.npy", mmap_mode="r"), ids, "my-index")
    """
    _check_choice(kind, engine.KINDS, "kind")
    _check_choice(metric, engine.METRICS, "metric")
    if getattr(vectors, "ndim", 0) != 2 or len(ids) != vectors.shape[0]:
        raise ValueError("vectors must be (n, d) with one id per row")
    out = Path(out_dir)
    _check_out_dir(out, [], force=force)

    def feed(collector: Collector) -> list[dict[str, Any]]:
        block = 65536
        for start in range(0, len(ids), block):
            rows = np.asarray(vectors[start : start + block])  # float32 in prepare_rows
            collector.stats.inputs_read += len(rows)
            collector.add_block(rows, list(ids[start : start + block]), "arrays")
        collector.check([])
        return [{"path": None, "kind": "arrays", "inputs": len(ids)}]

    settings = _BuildSettings(
        kind=kind,
        metric=metric,
        memory_budget=memory_budget,
        embedding=0,
        skip_bad=skip_bad,
        target_recall=target_recall,
        flat_max=flat_max,
        seed=seed,
        note=note,
    )
    nothing = lambda _stats: SchemaError("nothing to index (no vectors)")  # noqa: E731
    return _build(out, feed, nothing, settings)


@dataclass(frozen=True)
class _BuildSettings:
    """What :func:`build_index` and :func:`build_index_from_arrays` were asked to build."""

    kind: str
    metric: str
    memory_budget: int | None
    embedding: int
    skip_bad: bool
    target_recall: float
    flat_max: int
    seed: int
    note: Note | None


def _build(
    out: Path,
    feed: Callable[[Collector], list[dict[str, Any]]],
    nothing: Callable[[Any], SchemaError],
    settings: _BuildSettings,
) -> SimilarityIndex:
    """Collect the vectors, choose, train, tune and write the folder atomically.

    Reading takes every core (worker processes); the checksums of ``vectors.npy`` and of
    the sources (left None by ``feed``) are then computed in threads while FAISS trains,
    adds and tunes, which leave a core idle at times (PQ training, re-ranking).
    """
    threads = engine.configure_threads()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    stop = threading.Event()
    with atomic_dir(out) as tmp, ThreadPoolExecutor(max_workers=2) as hashing:
        try:
            built = _build_in(
                tmp,
                feed,
                nothing,
                settings,
                hashing=hashing,
                stop=stop,
                timings=timings,
                started=started,
                threads=threads,
            )
        finally:
            stop.set()  # on an error, the hashing threads give up at their next chunk
    # What was just written and checked, handed out as it is in memory (reading the
    # folder back would load the FAISS index a second time).
    vectors = open_vectors(out / VECTORS_FILE)
    # The sidecar as written (JSON types), as load() would give it.
    sidecar = read_sidecar(out)
    return SimilarityIndex(out, sidecar, built.ids, vectors, built.faiss_index)


def _build_in(
    tmp: Path,
    feed: Callable[[Collector], list[dict[str, Any]]],
    nothing: Callable[[Any], SchemaError],
    settings: _BuildSettings,
    *,
    hashing: ThreadPoolExecutor,
    stop: threading.Event,
    timings: dict[str, float],
    started: float,
    threads: int,
) -> _Built:
    kind, metric, memory_budget = settings.kind, settings.metric, settings.memory_budget
    embedding, target_recall, seed = settings.embedding, settings.target_recall, settings.seed
    note = settings.note
    writer = VectorWriter(tmp / VECTORS_FILE, digest=False)
    collector = Collector(writer, metric=metric, embedding=embedding, skip_bad=settings.skip_bad)
    try:
        source_records = feed(collector)
    except BaseException:
        writer.close()
        raise
    writer.finish()
    timings["read"] = time.perf_counter() - started
    stats = collector.stats
    n = writer.rows
    if n == 0:
        raise nothing(stats)
    rows_digest = hashing.submit(sha256_file, tmp / VECTORS_FILE, skip=HEADER_BYTES, stop=stop)
    source_digests = {
        number: hashing.submit(sha256_file, Path(record["path"]), stop=stop)
        for number, record in enumerate(source_records)
        if record.get("path") and record.get("sha256") is None
    }
    dimension = int(writer.dim or 0)
    write_ids(tmp / IDS_FILE, collector.ids)
    vectors = open_vectors(tmp / VECTORS_FILE)
    plan = engine.plan_index(
        kind, n, dimension, memory_budget=memory_budget, flat_max=settings.flat_max
    )
    if note:
        note(f"{n} vectors of {dimension} dimensions: {plan.kind} ({plan.reason})")
    query_rows = engine.tuning_queries(n, seed)
    mark = time.perf_counter()
    train_rows = engine.train_sample(n, plan.nlist, query_rows, seed) if plan.nlist else None
    faiss_index = engine.train_and_add(
        plan,
        vectors,
        metric,
        train_rows=train_rows if train_rows is not None else np.empty(0, "int64"),
        seed=seed,
        note=note,
    )
    timings["train_add"] = time.perf_counter() - mark
    # An exact index holds the rows itself: tune on them there, and let go of the pages
    # of vectors.npy that adding them mapped (one copy of the vectors in memory, not two).
    tune_vectors = engine.flat_rows(faiss_index) if plan.kind == "flat" else vectors
    if plan.kind == "flat":
        engine.release_pages(vectors)
    mark = time.perf_counter()
    if note and plan.kind != "flat":
        note(f"tuning the search for recall@10 >= {target_recall} on {len(query_rows)} queries")
    tuning = engine.tune(
        faiss_index,
        plan.kind,
        tune_vectors,
        metric,
        query_rows,
        target=target_recall,
        nlist=plan.nlist,
        pq_m=plan.pq_m,
    )
    del tune_vectors
    timings["tune"] = time.perf_counter() - mark
    past_ivf: dict[str, Any] | None = None
    if (
        kind == "auto"
        and plan.kind in ("ivf", "ivfpq")
        and engine.needs_most_lists(tuning, plan.nlist, target_recall)
    ):
        mark = time.perf_counter()
        other = engine.past_ivf(
            plan,
            faiss_index,
            tuning,
            vectors,
            metric,
            query_rows,
            target=target_recall,
            memory_budget=memory_budget,
            note=note,
        )
        plan, faiss_index, tuning = other.plan, other.index, other.tuning
        past_ivf = other.measured
        timings["past_ivf"] = time.perf_counter() - mark
    mark = time.perf_counter()
    for number, digest in source_digests.items():
        source_records[number]["sha256"] = digest.result()
    rows_sha256 = rows_digest.result()
    timings["hash_wait"] = time.perf_counter() - mark
    sidecar = _sidecar(
        plan=plan,
        requested_kind=kind,
        metric=metric,
        dimension=dimension,
        count=n,
        embedding=embedding,
        memory_budget=memory_budget,
        target=target_recall,
        tuning=tuning,
        counts=stats.as_counts(),
        sources=source_records,
        seed=seed,
        timings=timings,
    )
    sidecar["threads"] = threads
    if past_ivf is not None:
        sidecar["past_ivf"] = past_ivf
    del vectors
    mark = time.perf_counter()
    _finish_folder(tmp, sidecar, faiss_index, rows_sha256)
    timings["write"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    sidecar["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    write_sidecar(tmp / SIDECAR_FILE, sidecar)
    return _Built(sidecar, collector.ids, faiss_index)


@dataclass
class _Built:
    """What :func:`_build` made, handed out once its folder is in place."""

    sidecar: dict[str, Any]
    ids: list[str]
    faiss_index: faiss.Index


# -- changing ---------------------------------------------------------------------------


def _renumber_ivf(faiss_index: faiss.Index, mapping: np.ndarray) -> None:
    """Rewrite the labels stored in an IVF index's lists through ``mapping`` (old -> new)."""
    ivf = faiss.extract_index_ivf(faiss_index)
    lists = ivf.invlists
    assert lists is not None
    for list_no in range(ivf.nlist):
        size = lists.list_size(list_no)
        if size:
            labels = faiss.rev_swig_ptr(lists.get_ids(list_no), size)
            labels[:] = mapping[labels]


def _drop_rows(index: SimilarityIndex, kept_vectors: np.ndarray, keep: np.ndarray) -> faiss.Index:
    """The FAISS index without the rows ``keep`` masks out, labels renumbered to match."""
    faiss_index = index.faiss_index
    if keep.all():
        return faiss_index
    if index.kind == "hnsw":
        # HNSW graphs cannot delete: rebuild the graph over the kept vectors.
        plan = engine.Plan("hnsw", index.sidecar["params"]["factory"], 0)
        fresh = engine.new_index(plan, index.dimension, index.metric)
        for _start, rows in engine.iter_blocks(kept_vectors):
            fresh.add(rows)
        return fresh
    removed = np.flatnonzero(~keep).astype("int64")
    faiss_index.remove_ids(faiss.IDSelectorBatch(removed))
    if index.kind in ("ivf", "ivfpq"):
        # IVF keeps the labels of the other entries: map them to the compacted rows.
        _renumber_ivf(faiss_index, (np.cumsum(keep) - 1).astype("int64"))
    return faiss_index


Fill = Callable[[VectorWriter, list[str]], None]
Finalize = Callable[[dict[str, Any]], None]


def _rewrite(
    index: SimilarityIndex,
    *,
    keep: np.ndarray,
    fill: Fill | None,
    finalize: Finalize,
    retune: bool,
    seed: int,
) -> tuple[SimilarityIndex, float | None]:
    """Write a changed copy of an index folder next to it and swap it in atomically.

    Rows where ``keep`` is False are dropped, then ``fill`` may append rows (and
    their ids); the FAISS index is updated in place of a rebuild; ``finalize``
    edits the sidecar before it is written.
    """
    folder = index.path
    if IVFDATA_FILE in index.sidecar.get("files", {}):
        raise IndexMismatchError(
            f"{folder}: built from shards (its lists are on disk, {IVFDATA_FILE}), so it is "
            "not changed in place; build it again with 'index build --shards'"
        )
    with atomic_dir(folder) as tmp:
        writer = VectorWriter(tmp / VECTORS_FILE, dim=index.dimension)
        ids: list[str] = []
        try:
            if keep.all():
                writer.copy_rows_from(folder / VECTORS_FILE, len(index))
                ids.extend(index.ids)
            else:
                for start, rows in engine.iter_blocks(index.vectors):
                    writer.append(rows[keep[start : start + len(rows)]])
                ids.extend(i for i, k in zip(index.ids, keep, strict=True) if k)
            kept = writer.rows
            if fill is not None:
                fill(writer, ids)
        except BaseException:
            writer.close()
            raise
        writer.finish()
        write_ids(tmp / IDS_FILE, ids)
        vectors = open_vectors(tmp / VECTORS_FILE)
        faiss_index = _drop_rows(index, vectors[:kept], keep)
        for _start, rows in engine.iter_blocks(vectors[kept:]):
            faiss_index.add(rows)
        sidecar = dict(index.sidecar)
        sidecar["count"] = writer.rows
        recall = None
        if retune:
            tuning_before = sidecar.get("tuning", {})
            target = float(tuning_before.get("target_recall_at_10", 0.95))
            params = sidecar.get("params", {})
            tuning = engine.tune(
                faiss_index,
                index.kind,
                vectors,
                index.metric,
                engine.tuning_queries(writer.rows, seed),
                target=target,
                nlist=int(params.get("nlist", 0)),
                pq_m=int(params.get("pq_m", 0)),
            )
            sidecar["search_params"] = tuning.params.to_dict()
            sidecar["tuning"] = tuning.to_dict(target)
            recall = tuning.recall
        counts = dict(sidecar.get("counts", {}))
        counts["indexed"] = writer.rows
        sidecar["counts"] = counts
        sidecar["modified_at"] = _now()
        sidecar["history"] = list(sidecar.get("history", []))
        finalize(sidecar)
        del vectors
        _finish_folder(tmp, sidecar, faiss_index, writer.rows_sha256)
    return SimilarityIndex.load(folder), recall


class _WrittenRows:
    """Row access to what a :class:`VectorWriter` has written so far."""

    def __init__(self, writer: VectorWriter) -> None:
        self._writer = writer

    def __getitem__(self, row: int) -> np.ndarray:
        return self._writer.read_row(row)


def _replaced_rows(index: SimilarityIndex, paths: Sequence[Path], *, limits: Limits) -> np.ndarray:
    """A keep-mask: False where a source holds an indexed id with another usable vector."""
    keep = np.ones(len(index), dtype=bool)
    rows = index._row_map()
    which = int(index.sidecar.get("embedding", 0))
    for path in paths:
        with ArchiveReader(path, limits=limits) as reader:
            for record in reader.iter_inputs():
                row = rows.get(record.id)
                if row is None:
                    continue
                vector = embedding_array(record, which)
                if vector is None or vector.shape[0] != index.dimension:
                    continue
                prepared = prepare_vector(vector, index.metric)
                if prepared is None:
                    continue
                if not np.array_equal(prepared, index.vectors[row]):
                    keep[row] = False
    return keep


def add_to_index(
    index_dir: PathLike,
    sources: Sources,
    *,
    replace: bool = False,
    skip_bad: bool = False,
    retune: bool = True,
    seed: int = 0,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> ChangeReport:
    """Append the embeddings of more archives to an index, without rebuilding it.

    New ids are appended. An id already indexed with the same vector is left as it
    is (adding the same archive twice changes nothing); with a different vector it
    is a :class:`ConflictError` unless ``replace=True``, which swaps in the new
    vector. The kind, metric, embedding number and trained structure are kept and
    the search settings re-tuned (``retune``). The folder is rewritten atomically.

    Example::

        report = add_to_index("my-index", ["more.zip"])
    """
    index = SimilarityIndex.load(index_dir)
    paths = as_paths(sources)
    if not paths:
        raise ValueError("give at least one archive")
    check_outputs({"INDEX_DIR": index.path}, paths, existing_ok={"INDEX_DIR"})
    keep = _replaced_rows(index, paths, limits=limits) if replace else np.ones(len(index), bool)
    replaced = int((~keep).sum())
    state: dict[str, Any] = {}

    def fill(writer: VectorWriter, ids: list[str]) -> None:
        existing = {input_id: row for row, input_id in enumerate(ids)}
        collector = Collector(
            writer,
            metric=index.metric,
            embedding=int(index.sidecar.get("embedding", 0)),
            skip_bad=skip_bad,
            dimension=index.dimension,
            existing=existing,
            existing_vectors=_WrittenRows(writer),  # type: ignore[arg-type]
        )
        state["records"] = collect(paths, collector, limits=limits, progress=progress)
        collector.check(paths)
        ids.extend(collector.ids)
        state["stats"] = collector.stats

    def finalize(sidecar: dict[str, Any]) -> None:
        stats = state["stats"]
        counts = sidecar["counts"]
        counts["inputs_read"] = counts.get("inputs_read", 0) + stats.inputs_read
        counts["skipped_no_embedding"] = counts.get("skipped_no_embedding", 0) + stats.no_embedding
        counts["skipped_bad"] = counts.get("skipped_bad", 0) + stats.bad
        sidecar["sources"] = list(sidecar.get("sources", [])) + state["records"]
        sidecar["history"].append(
            {
                "op": "add",
                "at": sidecar["modified_at"],
                "sources": [r["path"] for r in state["records"]],
                "added": stats.indexed - replaced,
                "replaced": replaced,
                "unchanged": stats.unchanged,
                "count": sidecar["count"],
            }
        )

    after, recall = _rewrite(
        index, keep=keep, fill=fill, finalize=finalize, retune=retune, seed=seed
    )
    stats = state["stats"]
    return ChangeReport(
        added=stats.indexed - replaced,
        replaced=replaced,
        unchanged=stats.unchanged,
        removed=0,
        skipped_no_embedding=stats.no_embedding,
        skipped_bad=stats.bad,
        count=len(after),
        recall_at_10=recall,
    )


def remove_from_index(
    index_dir: PathLike,
    ids: Iterable[str],
    *,
    missing_ok: bool = False,
    retune: bool = True,
    seed: int = 0,
) -> ChangeReport:
    """Remove inputs from an index by id, without rebuilding it.

    IVF indexes drop the entries and renumber the rest in place, flat indexes
    drop the rows, HNSW graphs (which cannot delete) are rebuilt from the kept
    vectors. ``vectors.npy`` and ``ids.json`` are rewritten and the folder is
    replaced atomically. An id not in the index raises
    :class:`InputNotFoundError` unless ``missing_ok``.

    Example::

        remove_from_index("my-index", ["img-0008"])
    """
    index = SimilarityIndex.load(index_dir)
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise ValueError("give at least one id to remove")
    rows = index._row_map()
    missing = [i for i in wanted if i not in rows]
    if missing and not missing_ok:
        shown = ", ".join(repr(i) for i in missing[:5])
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        hint = param("missing_ok")
        raise InputNotFoundError(
            f"{index.path}: {len(missing)} id(s) not in the index: {shown}{more}; "
            f"pass {hint} to ignore them",
            params=[hint],
        )
    keep = np.ones(len(index), dtype=bool)
    for input_id in wanted:
        if input_id in rows:
            keep[rows[input_id]] = False
    removed = int((~keep).sum())
    if removed == len(index):
        raise SchemaError(
            f"{index.path}: removing every input would leave an empty index; delete the "
            "folder instead"
        )
    if removed == 0:
        return ChangeReport(0, 0, 0, 0, 0, 0, len(index), None)

    def finalize(sidecar: dict[str, Any]) -> None:
        sidecar["history"].append(
            {
                "op": "remove",
                "at": sidecar["modified_at"],
                "removed": removed,
                "count": sidecar["count"],
            }
        )

    after, recall = _rewrite(
        index, keep=keep, fill=None, finalize=finalize, retune=retune, seed=seed
    )
    return ChangeReport(
        added=0,
        replaced=0,
        unchanged=0,
        removed=removed,
        skipped_no_embedding=0,
        skipped_bad=0,
        count=len(after),
        recall_at_10=recall,
    )
