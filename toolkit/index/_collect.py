"""Read the embeddings of one or more archives into a vectors file, checking each one.

Memory does not grow with the archives: one batch is parsed at a time and its rows
are appended to the vectors file straight away. Only the id -> row map is kept.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._wire import packed_floats
from ..archive import ArchiveReader
from ..batches import Batch, auto_workers, iter_batches
from ..errors import ConflictError, SchemaError, param
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input
from ._store import VectorWriter, sha256_file

#: How many offending ids an error message names.
SHOWN = 5


@dataclass
class CollectStats:
    """What reading the sources found (mutable while reading)."""

    inputs_read: int = 0
    indexed: int = 0
    no_embedding: int = 0
    bad: int = 0
    duplicate_ids: int = 0
    unchanged: int = 0
    replaced: int = 0
    bad_examples: list[tuple[str, str]] = field(default_factory=list)
    conflicts: int = 0
    conflict_examples: list[str] = field(default_factory=list)
    dimension_counts: dict[int, int] = field(default_factory=dict)

    def as_counts(self) -> dict[str, int]:
        """The counters for the sidecar."""
        return {
            "inputs_read": self.inputs_read,
            "indexed": self.indexed,
            "skipped_no_embedding": self.no_embedding,
            "skipped_bad": self.bad,
            "duplicate_ids": self.duplicate_ids,
        }


def embedding_array(record: Input, which: int) -> np.ndarray | None:
    """Embedding ``which`` of ``record`` as a float32 view of its wire bytes, or None.

    Serializing the small ``Embedding`` message and viewing its packed floats is
    about three times faster than converting the repeated field element by element.
    """
    embeddings = record.data.embeddings
    if which >= len(embeddings):
        return None
    vector = packed_floats(embeddings[which].SerializeToString())
    return np.empty(0, dtype=np.float32) if vector is None else vector


def _declared_dims(record: Input, which: int) -> int:
    return int(record.data.embeddings[which].num_dimensions)


@dataclass
class Extracted:
    """Embedding ``which`` of each input of one batch, pulled out of the parsed batch
    (in a worker process when there are several): compact, for the trip back."""

    #: Inputs in the batch.
    inputs: int
    #: Ids of the inputs that have the embedding, in order.
    ids: list[str]
    #: Their vectors' sizes and declared ``num_dimensions`` (int64 arrays).
    sizes: np.ndarray
    declared: np.ndarray
    #: All their vectors, one after another (float32); None when ``prepared`` holds them.
    values: np.ndarray | None
    #: When every vector has one size (and says so): the block ``prepare_rows`` made of
    #: them, done where the work ran (rows, usable mask, problems).
    prepared: tuple[np.ndarray, np.ndarray, dict[int, str]] | None = None


def extract_embeddings(
    records: Sequence[Input], which: int, metric: str | None = None
) -> Extracted:
    """Embedding ``which`` of each of ``records`` as an :class:`Extracted`; with
    ``metric``, vectors of one size are also prepared (:func:`prepare_rows`)."""
    ids: list[str] = []
    sizes: list[int] = []
    declared: list[int] = []
    vectors: list[np.ndarray] = []
    for record in records:
        embeddings = record.data.embeddings
        if which >= len(embeddings):
            continue
        embedding = embeddings[which]
        vector = packed_floats(embedding.SerializeToString())
        if vector is None:
            vector = np.empty(0, dtype=np.float32)
        ids.append(record.id)
        sizes.append(vector.shape[0])
        declared.append(embedding.num_dimensions)
        vectors.append(vector)
    values = np.concatenate(vectors) if vectors else np.empty(0, dtype=np.float32)
    values = values.astype(np.float32, copy=False)
    found = Extracted(
        inputs=len(records),
        ids=ids,
        sizes=np.array(sizes, dtype=np.int64),
        declared=np.array(declared, dtype=np.int64),
        values=values,
    )
    size = sizes[0] if sizes else 0
    if metric is not None and size and all(s == size for s in sizes):
        if all(d in (0, size) for d in declared):
            found.prepared = prepare_rows(values.reshape(len(sizes), size), metric)
            found.values = None
    return found


#: The largest vector norm an ``ip`` or ``l2`` index takes: inner products (up to 1e36)
#: and squared distances (up to 4e36) then stay finite in float32. Cosine vectors are
#: divided by their norm, so any finite, nonzero vector is fine there.
MAX_NORM = 1e18


def prepare_rows(block: Any, metric: str) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """``block`` (m, d) ready to index: float32 rows, a mask of usable rows, and the problems.

    Returns ``(rows, usable, problems)``: ``rows`` holds every row as float32, divided
    by its norm for ``cosine`` (unusable rows are left as they came); ``problems`` maps
    each unusable row to why ("holds NaN or infinite values", "is all zeros", or a norm
    above :data:`MAX_NORM` for ``ip``/``l2``).

    The norm is computed in float32, so that vectors get the same bits as in indexes
    built before (``index add`` compares them exactly), except where float32 overflows
    (components above ~1.8e19) or underflows: then in float64, scaled by the largest
    component, so a huge but finite vector still becomes a finite unit vector.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        source = np.asarray(block)
        rows = np.asarray(source, dtype=np.float32)
        finite = np.asarray(np.isfinite(rows).all(axis=1))
        all_finite = bool(finite.all())
        norms = np.linalg.norm(rows if all_finite else np.where(finite[:, None], rows, 0.0), axis=1)
        # float32 overflowed (inf) or underflowed (0): a zero norm need not be a zero row
        nonzero = np.ones(len(rows), dtype=bool)
        for row in np.flatnonzero(norms == 0):
            nonzero[row] = bool(rows[row].any())
        redo = np.flatnonzero(finite & nonzero & ~((norms > 0) & np.isfinite(norms)))
        wide = np.asarray(rows[redo], dtype=np.float64)
        scale = np.abs(wide).max(axis=1, initial=0.0)
        scaled = wide / scale[:, None] if len(redo) else wide
        scaled_norms = np.linalg.norm(scaled, axis=1)
        exact = np.full(len(rows), np.nan)
        exact[redo] = scale * scaled_norms  # up to ~3.4e38 * sqrt(d): fine in float64
    usable = finite & nonzero
    if metric != "cosine":
        big = np.where(np.isfinite(norms), norms.astype(np.float64), np.inf)
        big[redo] = exact[redo]
        usable &= big <= MAX_NORM
    problems: dict[int, str] = {}
    for row in np.flatnonzero(~usable):
        if not finite[row]:
            # float64 (or wider) input that float32 cannot hold; no cast here: casting a
            # signalling NaN raises "invalid value" where warnings are errors
            beyond = source.dtype.kind == "f" and source.dtype.itemsize > 4
            beyond = beyond and bool(np.isfinite(source[row]).all())
            problems[int(row)] = (
                "holds values beyond the float32 range"
                if beyond
                else "holds NaN or infinite values"
            )
        elif not nonzero[row]:
            problems[int(row)] = "is all zeros"
        else:
            norm = exact[row] if np.isfinite(exact[row]) else float(norms[row])
            problems[int(row)] = (
                f"has a norm of {norm:.3g}, above the {MAX_NORM:.0e} that {metric} scores "
                "allow in float32 (scale the vectors down, or use the cosine metric)"
            )
    if metric == "cosine" and usable.any():
        if not usable.all() or len(redo):
            norms = np.where(usable, norms, np.float32(1))  # the others are left as they came
            norms[redo] = 1
        with np.errstate(invalid="ignore"):  # NaN rows divided by 1
            rows = rows / norms[:, None]
        if len(redo):
            rows[redo] = (scaled / scaled_norms[:, None]).astype(np.float32)
    return rows, usable, problems


def prepare_vector(vector: np.ndarray, metric: str) -> np.ndarray | None:
    """One vector as :func:`prepare_rows` makes it (the same bits), or None if unusable.

    The common case (a float32 norm that neither overflows nor underflows) is a few
    numpy calls, for paths that go one record at a time.
    """
    row = np.asarray(vector, dtype=np.float32)[None, :]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        norms = np.linalg.norm(row, axis=1)  # NaN or infinite for non-finite values
    norm = float(norms[0])
    if 0 < norm < np.inf:
        if metric == "cosine":
            unit: np.ndarray = (row / norms[:, None])[0]
            return unit
        return row[0] if norm <= MAX_NORM else None
    rows, usable, _problems = prepare_rows(row, metric)
    return rows[0] if usable[0] else None


class Collector:
    """Check embeddings batch by batch and append the good ones to a :class:`VectorWriter`.

    ``existing`` maps ids already in an index to their rows (for ``index add``);
    ``existing_vectors`` holds those rows. An incoming id that is already there with
    the same vector is left alone; with a different vector it is a conflict unless
    ``replace`` is set, in which case its old row is listed in :attr:`replaced_rows`.
    """

    def __init__(
        self,
        writer: VectorWriter,
        *,
        metric: str,
        embedding: int,
        skip_bad: bool,
        dimension: int | None = None,
        existing: dict[str, int] | None = None,
        existing_vectors: np.ndarray | None = None,
        replace: bool = False,
    ) -> None:
        self.writer = writer
        self.metric = metric
        self.embedding = embedding
        self.skip_bad = skip_bad
        self.dimension = dimension
        self._dimension_origin = (
            "the index has" if dimension is not None else "the first embedding has"
        )
        self.existing = existing or {}
        self.existing_vectors = existing_vectors
        self.replace = replace
        self.stats = CollectStats()
        #: Ids of the rows appended to the writer, in row order.
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.replaced_rows: list[int] = []

    # -- per batch --------------------------------------------------------------

    def add_batch(self, records: Sequence[Input], where: str) -> None:
        """Check and append the embeddings of one batch; ``where`` names the archive."""
        stats = self.stats
        which = self.embedding
        vectors: list[np.ndarray] = []
        ids: list[str] = []
        for record in records:
            stats.inputs_read += 1
            vector = embedding_array(record, which)
            if vector is None:
                stats.no_embedding += 1
                continue
            size = vector.shape[0]
            stats.dimension_counts[size] = stats.dimension_counts.get(size, 0) + 1
            declared = _declared_dims(record, which)
            if size == 0:
                self._bad(record.id, "has an empty embedding vector", where)
                continue
            if declared and declared != size:
                self._bad(
                    record.id, f"declares num_dimensions {declared} but holds {size} values", where
                )
                continue
            if self.dimension is None:
                self.dimension = size
            if size != self.dimension:
                self._bad(
                    record.id,
                    f"has {size} values where {self._dimension_origin} {self.dimension} "
                    "(mixed dimensions)",
                    where,
                )
                continue
            vectors.append(vector)
            ids.append(record.id)
        if vectors:
            self.add_block(np.vstack(vectors), ids, where)

    def add_extracted(self, found: Extracted, where: str) -> None:
        """:meth:`add_batch` for a batch's embeddings already pulled out
        (:func:`extract_embeddings`): the same checks, the same outcome."""
        stats = self.stats
        stats.inputs_read += found.inputs
        stats.no_embedding += found.inputs - len(found.ids)
        if not found.ids:
            return
        sizes, declared = found.sizes, found.declared
        counts = stats.dimension_counts
        for size, n in zip(*np.unique(sizes, return_counts=True), strict=True):
            counts[int(size)] = counts.get(int(size), 0) + int(n)
        unfit = (sizes == 0) | ((declared != 0) & (declared != sizes))
        if self.dimension is None:
            fit = np.flatnonzero(~unfit)
            if len(fit):
                self.dimension = int(sizes[fit[0]])
        bad = unfit | (sizes != self.dimension)
        if not bad.any():
            if found.prepared is not None:
                self._add_prepared(found.prepared, found.ids, where)
                return
            assert found.values is not None
            block = found.values.reshape(len(sizes), -1)
            self.add_block(block, found.ids, where)
            return
        for row in np.flatnonzero(bad):
            size, said, input_id = int(sizes[row]), int(declared[row]), found.ids[row]
            if size == 0:
                self._bad(input_id, "has an empty embedding vector", where)
            elif said and said != size:
                self._bad(
                    input_id, f"declares num_dimensions {said} but holds {size} values", where
                )
            else:
                self._bad(
                    input_id,
                    f"has {size} values where {self._dimension_origin} {self.dimension} "
                    "(mixed dimensions)",
                    where,
                )
        good = np.flatnonzero(~bad)
        if not len(good):
            return
        assert found.values is not None
        ends = np.cumsum(sizes)
        block = np.stack([found.values[ends[row] - sizes[row] : ends[row]] for row in good])
        self.add_block(block, [found.ids[row] for row in good], where)

    def add_block(self, block: np.ndarray, ids: list[str], where: str) -> None:
        """Check and append a ``(m, d)`` block of vectors with their ids."""
        if self.dimension is None:
            self.dimension = int(block.shape[1])
        if block.shape[1] != self.dimension:
            raise SchemaError(
                f"{where}: vectors have {block.shape[1]} dimensions where {self._dimension_origin} "
                f"{self.dimension}"
            )
        self._add_prepared(prepare_rows(block, self.metric), ids, where)

    def _add_prepared(
        self, prepared: tuple[np.ndarray, np.ndarray, dict[int, str]], ids: list[str], where: str
    ) -> None:
        block, good, problems = prepared
        if problems:
            for row, reason in problems.items():
                self._bad(ids[row], f"embedding {reason}", where)
            block = block[good]
            ids = [i for i, ok in zip(ids, good, strict=True) if ok]
        self._append(block, ids, where)

    def _append(self, block: np.ndarray, ids: list[str], where: str) -> None:
        stats = self.stats
        fresh = dict.fromkeys(ids)
        if not self.existing and len(fresh) == len(ids) and self.rows.keys().isdisjoint(fresh):
            # The common case (new ids, each once): every vector is kept, in order.
            start = self.writer.rows
            self.rows.update(zip(ids, range(start, start + len(ids)), strict=True))
            self.writer.append(block)
            self.ids.extend(ids)
            stats.indexed += len(ids)
            return
        keep = np.ones(len(ids), dtype=bool)
        next_row = self.writer.rows  # the row the next kept vector gets
        for n, input_id in enumerate(ids):
            old = self.existing.get(input_id)
            if old is not None:
                assert self.existing_vectors is not None
                if np.array_equal(self.existing_vectors[old], block[n]):
                    stats.unchanged += 1
                    keep[n] = False
                elif self.replace:
                    self.replaced_rows.append(old)
                    stats.replaced += 1
                    del self.existing[input_id]
                    self.rows[input_id] = next_row
                    next_row += 1
                else:
                    self._conflict(input_id, f"{input_id!r} ({where} differs from the index)")
                    keep[n] = False
                continue
            row = self.rows.get(input_id)
            if row is not None:
                keep[n] = False
                if row >= self.writer.rows:  # both copies are in this block
                    first = block[ids.index(input_id)]
                else:
                    first = self.writer.read_row(row)
                if np.array_equal(first, block[n]):
                    stats.duplicate_ids += 1
                else:
                    self._conflict(input_id, f"{input_id!r} (twice, with different vectors)")
                continue
            self.rows[input_id] = next_row
            next_row += 1
        if not keep.all():
            block = block[keep]
            ids = [i for i, ok in zip(ids, keep, strict=True) if ok]
        self.writer.append(block)
        self.ids.extend(ids)
        stats.indexed += len(ids)

    def _bad(self, input_id: str, reason: str, where: str) -> None:
        self.stats.bad += 1
        if len(self.stats.bad_examples) < SHOWN:
            self.stats.bad_examples.append((input_id, f"{where}: input {input_id!r} {reason}"))

    def _conflict(self, input_id: str, text: str) -> None:
        self.stats.conflicts += 1
        if len(self.stats.conflict_examples) < SHOWN:
            self.stats.conflict_examples.append(text)

    # -- at the end -------------------------------------------------------------

    def check(self, sources: Sequence[Path]) -> None:
        """Raise for bad vectors (unless skipped) and for id conflicts."""
        stats = self.stats
        names = ", ".join(str(s) for s in sources)
        if stats.bad and not self.skip_bad:
            shown = "; ".join(text for _id, text in stats.bad_examples)
            more = f" (and {stats.bad - SHOWN} more)" if stats.bad > SHOWN else ""
            raise SchemaError(
                f"{stats.bad} input(s) have unusable embeddings: {shown}{more}; fix the export or "
                f"pass {_SKIP_BAD} to leave them out",
                params=[_SKIP_BAD],
            )
        if stats.dimension_counts and self.skip_bad and self.dimension is not None:
            common = max(stats.dimension_counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            if (
                not self.existing
                and common != self.dimension
                and stats.dimension_counts.get(common, 0)
                > stats.dimension_counts.get(self.dimension, 0)
            ):
                other = param("embedding", ...)
                raise SchemaError(
                    f"{names}: most embeddings have {common} values but the first has "
                    f"{self.dimension}, so {_SKIP_BAD} would drop the majority; pick another "
                    f"embedding with {other} or fix the export",
                    params=[_SKIP_BAD, other],
                )
        if stats.conflicts:
            shown = ", ".join(stats.conflict_examples)
            more = f" (and {stats.conflicts - SHOWN} more)" if stats.conflicts > SHOWN else ""
            named = [param("replace")] if self.existing or self.replace else []
            hint = (
                f"pass {named[0]} to overwrite the indexed vectors"
                if named
                else "give each input once, or merge the archives first"
            )
            raise ConflictError(
                f"{stats.conflicts} input id(s) have conflicting embeddings: {shown}{more}; {hint}",
                params=named,
            )


#: How errors name the parameter that leaves bad vectors out (the CLI: ``--skip-bad``).
_SKIP_BAD = param("skip_bad")


def collect(
    sources: Sequence[Path],
    collector: Collector,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Feed every batch of every source to ``collector``; return the source records.

    Reading, parsing and pulling the vectors out run in ``workers`` processes (default:
    :func:`toolkit.batches.auto_workers` for the sources' size), over ranges of entries;
    the checks and the writes happen here, in order. Each archive's SHA-256 is computed
    in a thread meanwhile (hashlib releases the GIL), so the checksum costs almost no time.
    """
    records: list[dict[str, Any]] = []
    which = collector.embedding

    def work(batch: Batch) -> Extracted:
        return extract_embeddings(batch.inputs, which, collector.metric)

    with contextlib.ExitStack() as stack:
        readers = [stack.enter_context(ArchiveReader(source, limits=limits)) for source in sources]
        if workers is None:
            workers = auto_workers(sum(e.size for r in readers for e in r.entries))
        batches = iter_batches(readers, work=work, workers=workers, ids=False, task="reading")
        # The pool forks its workers at the first batch: the checksum thread starts after.
        first = next(batches, None)
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        digests = [pool.submit(sha256_file, source) for source in sources]
        counts = [[0, 0] for _ in sources]
        for batch in itertools.chain([first] if first is not None else [], batches):
            index = batch.source_index
            before_read, before_indexed = collector.stats.inputs_read, collector.stats.indexed
            collector.add_extracted(batch.result, str(sources[index]))
            counts[index][0] += collector.stats.inputs_read - before_read
            counts[index][1] += collector.stats.indexed - before_indexed
            if progress is not None:
                progress(batch.count)
        for index, source in enumerate(sources):
            records.append(
                {
                    "path": str(Path(os.path.abspath(source))),
                    "sha256": digests[index].result(),
                    "bytes": source.stat().st_size,
                    "flavour": readers[index].flavour,
                    "inputs": counts[index][0],
                    "indexed": counts[index][1],
                }
            )
    return records


def as_paths(sources: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[Path]:
    """Normalise one path or an iterable of paths to a list of ``Path``."""
    if isinstance(sources, (str, os.PathLike)):
        return [Path(sources)]
    return [Path(s) for s in sources]
