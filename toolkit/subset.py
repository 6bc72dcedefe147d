"""Take inputs out of an archive, or keep those that match criteria.

``remove_inputs`` writes the archive without some ids; ``filter_inputs`` writes the
inputs that match a :class:`FilterCriteria`. Both read the source once, one batch at a
time, and copy kept inputs as wire bytes (a batch kept whole is copied as it is). The
output is written under a temporary name and moved into place when complete, so a
failure (or ``strict`` with a missing id) leaves nothing behind.

Example::

    report = remove_inputs("export.zip", "cleaned.zip", ["img-0003", "img-0009"])
    criteria = FilterCriteria(concepts=("cat", "dog"), has_regions=True)
    report = filter_inputs("export.zip", "cats-and-dogs.zip", criteria=criteria)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from google.protobuf import json_format

from ._rewrite import (
    BatchSink,
    Source,
    SourceBatch,
    Stream,
    check_not_a_source,
    open_destination,
    open_sources,
    output_writer,
)
from .archive import Flavour
from .batches import iter_batches
from .concepts import ConceptKeys
from .errors import EmptyResultError, InputNotFoundError, param
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input
from .records import INPUT_TYPES, has_labels, input_type, iter_regions

__all__ = [
    "FilterCriteria",
    "FilterReport",
    "RemoveReport",
    "filter_inputs",
    "parse_metadata_filter",
    "read_ids_file",
    "remove_inputs",
]

#: Missing ids named in an error message.
_NAMED_IDS = 5


# -- criteria -------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterCriteria:
    """Which inputs ``filter_inputs`` keeps. Criteria combine with AND; the values of one
    criterion combine with OR. Empty criteria keep every input.

    - ``concepts``: a positive label (value > 0) on the input, a video frame or a region,
      for any of these concepts: each a concept id or name, in any case
      (:mod:`toolkit.concepts`); one that names no concept of the archive is an error.
    - ``no_concepts``: none of these concepts as a positive label (the opposite of
      ``concepts``: an input with any of them is left out).
    - ``metadata``: ``(KEY, VALUE)`` pairs, any of which matches. KEY is a dotted path into
      the metadata Struct (``source.camera``); VALUE is compared as text with a string,
      as a number with a number (``12`` matches ``12.0``), as ``true``/``false`` with a
      bool, ``null`` with null, as JSON with a struct; a list matches when an item does.
    - ``types``: the input type is one of these (``image``, ``text``, ``video``,
      ``audio``).
    - ``has_embeddings``, ``has_regions``: the input carries an embedding; a region (its
      own or a video frame's). ``False`` means "either way".
    - ``unlabeled``: no concept (positive or negative) and no region.
    - ``ids``: the input id is in this set (from ``--ids-from``, or computed, e.g. by a
      similarity search: combine with :meth:`with_ids`).
    - ``limit``: keep at most this many inputs (reading stops there).

    Example::

        criteria = FilterCriteria(concepts=("cat",), metadata=(("split", "train"),))
        criteria.matches(record)
    """

    concepts: tuple[str, ...] = ()
    no_concepts: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    types: tuple[str, ...] = ()
    has_embeddings: bool = False
    has_regions: bool = False
    unlabeled: bool = False
    ids: frozenset[str] | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "concepts", tuple(self.concepts))
        object.__setattr__(self, "no_concepts", tuple(self.no_concepts))
        object.__setattr__(self, "metadata", tuple((str(k), str(v)) for k, v in self.metadata))
        object.__setattr__(self, "types", tuple(self.types))
        if self.ids is not None and not isinstance(self.ids, frozenset):
            object.__setattr__(self, "ids", frozenset(self.ids))
        unknown = [t for t in self.types if t not in INPUT_TYPES]
        if unknown:
            raise ValueError(
                f"unknown input type {unknown[0]!r}; use one of {', '.join(INPUT_TYPES)}"
            )
        for key, _ in self.metadata:
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"metadata key {key!r} is empty or has an empty part")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit must be 0 or more")

    def with_ids(self, ids: Iterable[str]) -> FilterCriteria:
        """These criteria, also requiring the id to be in ``ids`` (intersected with any
        ``ids`` already set). This is where a computed id set (similarity search) plugs in.

        Example::

            criteria = criteria.with_ids(hit.id for hit in hits)
        """
        new = frozenset(ids)
        if self.ids is not None:
            new = new & self.ids
        return dataclasses.replace(self, ids=new)

    @cached_property
    def _compiled(self) -> list[Callable[[Input], bool]]:
        tests: list[Callable[[Input], bool]] = []
        if self.types:
            types = frozenset(self.types)
            tests.append(lambda r: input_type(r) in types)
        if self.has_embeddings:
            tests.append(lambda r: len(r.data.embeddings) > 0)
        if self.has_regions:
            tests.append(lambda r: next(iter_regions(r), None) is not None)
        if self.unlabeled:
            tests.append(lambda r: not has_labels(r))
        if self.concepts:
            concepts = ConceptKeys(self.concepts)
            tests.append(concepts.any_positive)
        if self.no_concepts:
            no_concepts = ConceptKeys(self.no_concepts)
            tests.append(lambda r: not no_concepts.any_positive(r))
        if self.metadata:
            pairs = [(key.split("."), value) for key, value in self.metadata]
            tests.append(lambda r: _metadata_matches(r, pairs))
        return tests

    @property
    def is_empty(self) -> bool:
        """True when every input matches (no criterion, no limit)."""
        return not self._compiled and self.ids is None and self.limit is None

    def matches(self, record: Input) -> bool:
        """True when ``record`` meets every criterion (``limit`` aside)."""
        if self.ids is not None and record.id not in self.ids:
            return False
        return all(test(record) for test in self._compiled)

    def to_dict(self) -> dict[str, Any]:
        """The criteria that are set, JSON-ready (``ids`` as a count)."""
        out: dict[str, Any] = {}
        for name in ("concepts", "no_concepts", "types"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.metadata:
            out["metadata"] = [f"{k}={v}" for k, v in self.metadata]
        for name in ("has_embeddings", "has_regions", "unlabeled"):
            if getattr(self, name):
                out[name] = True
        if self.ids is not None:
            out["ids"] = len(self.ids)
        if self.limit is not None:
            out["limit"] = self.limit
        return out


def parse_metadata_filter(text: str) -> tuple[str, str]:
    """``"KEY=VALUE"`` -> ``(KEY, VALUE)`` (split at the first ``=``).

    Example::

        parse_metadata_filter("camera.model=X100")   # ('camera.model', 'X100')
    """
    key, sep, value = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"{text!r} is not KEY=VALUE (KEY may be dotted: a.b.c)")
    return key, value


def read_ids_file(lines: Iterable[str]) -> list[str]:
    """Input ids from the lines of a file: one per line, blank lines and ``#`` comments
    skipped, surrounding spaces removed.

    Example::

        with open("ids.txt") as f:
            ids = read_ids_file(f)
    """
    ids = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            ids.append(text)
    return ids


def _metadata_matches(record: Input, pairs: list[tuple[list[str], str]]) -> bool:
    data = record.data
    if not data.HasField("metadata"):
        return False
    for path, text in pairs:
        value = _lookup(data.metadata, path)
        if value is not None and _value_matches(value, text):
            return True
    return False


def _lookup(struct: Any, path: list[str]) -> Any:
    fields = struct.fields
    last = len(path) - 1
    for i, key in enumerate(path):
        if key not in fields:
            return None
        value = fields[key]
        if i == last:
            return value
        if value.WhichOneof("kind") != "struct_value":
            return None
        fields = value.struct_value.fields
    return None  # pragma: no cover - path is never empty


def _value_matches(value: Any, text: str) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return bool(value.string_value == text)
    if kind == "number_value":
        try:
            number = float(text)
        except ValueError:
            return False
        return not math.isnan(number) and number == value.number_value
    if kind == "bool_value":
        return text.lower() == ("true" if value.bool_value else "false")
    if kind == "null_value":
        return text.lower() == "null"
    if kind == "list_value":
        return any(_value_matches(item, text) for item in value.list_value.values)
    if kind == "struct_value":
        try:
            wanted = json.loads(text)
        except ValueError:
            return False
        return bool(json_format.MessageToDict(value.struct_value) == wanted)
    return False


# -- reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoveReport:
    """What ``remove_inputs`` did."""

    source: str
    output: str
    inputs_read: int
    inputs_written: int
    #: Ids removed, in the archive's order, each once.
    removed: tuple[str, ...]
    #: Ids asked for that the archive does not hold, in the order given.
    not_found: tuple[str, ...]

    @property
    def inputs_removed(self) -> int:
        """Inputs left out (an id held twice counts twice)."""
        return self.inputs_read - self.inputs_written

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "source": self.source,
            "output": self.output,
            "inputs_read": self.inputs_read,
            "inputs_written": self.inputs_written,
            "inputs_removed": self.inputs_removed,
            "removed": list(self.removed),
            "not_found": list(self.not_found),
        }


@dataclass(frozen=True)
class FilterReport:
    """What ``filter_inputs`` did."""

    source: str
    output: str
    criteria: FilterCriteria
    #: Inputs looked at (fewer than the archive holds when ``limit`` stopped the reading).
    inputs_read: int
    inputs_written: int
    #: True when ``limit`` stopped the reading.
    limit_reached: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "source": self.source,
            "output": self.output,
            "criteria": self.criteria.to_dict(),
            "inputs_read": self.inputs_read,
            "inputs_written": self.inputs_written,
            "limit_reached": self.limit_reached,
        }


# -- the operations -----------------------------------------------------------------------


def remove_inputs(
    source: str | os.PathLike[str] | Stream,
    output: str | os.PathLike[str] | Stream,
    ids: Iterable[str],
    *,
    strict: bool = False,
    allow_empty: bool = False,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> RemoveReport:
    """Write ``source`` without the inputs whose id is in ``ids`` (every input with that id).

    Ids the archive does not hold are reported in ``not_found``; with ``strict=True`` they
    raise :class:`~toolkit.errors.InputNotFoundError` and nothing is written. Removing
    every input is an :class:`~toolkit.errors.EmptyResultError` (nothing is written)
    unless ``allow_empty``. The output has the source's flavour unless ``flavour`` is
    given, and keeps its batch folder. ``progress`` is called with counts of inputs read.

    Example::

        report = remove_inputs("export.zip", "cleaned.zip", ["img-0003"], strict=True)
        print(report.inputs_removed)
    """
    wanted = list(dict.fromkeys(ids))
    wanted_set = frozenset(wanted)
    found: dict[str, None] = {}

    def select(batch: SourceBatch) -> list[bool] | None:
        inputs = batch.inputs
        ids_here = [record.id for record in inputs]
        if wanted_set.isdisjoint(ids_here):
            return None
        keep = []
        for input_id in ids_here:
            if input_id in wanted_set:
                found[input_id] = None
                keep.append(False)
            else:
                keep.append(True)
        return keep

    def check(read: int, written: int) -> None:
        if strict and len(found) < len(wanted):
            missing = [i for i in wanted if i not in found]
            raise InputNotFoundError(_missing_message(name, missing), params=[_STRICT])
        if not written and not allow_empty:
            why = f"all {read} inputs are among the ids to remove" if read else "it is empty"
            raise EmptyResultError(_empty_message(name, why), params=[_ALLOW_EMPTY])

    name = _source_name(source)
    read, written, _ = _rewrite_one(
        source,
        output,
        select,
        flavour=flavour,
        batch_size=batch_size,
        limits=limits,
        progress=progress,
        before_commit=check,
    )
    return RemoveReport(
        source=name,
        output=_source_name(output, "<stream>"),
        inputs_read=read,
        inputs_written=written,
        removed=tuple(found),
        not_found=tuple(i for i in wanted if i not in found),
    )


def filter_inputs(
    source: str | os.PathLike[str] | Stream,
    output: str | os.PathLike[str] | Stream,
    *,
    criteria: FilterCriteria,
    allow_empty: bool = False,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> FilterReport:
    """Write the inputs of ``source`` that match ``criteria``, in the archive's order.

    The output has the source's flavour unless ``flavour`` is given, and keeps its batch
    folder. ``progress`` is called with counts of inputs read. A computed id set (for
    example the hits of a similarity search) goes in through ``criteria.with_ids(...)``.

    Nothing is written, and an error says why, when a concept of ``criteria`` names no
    concept of the archive (:class:`~toolkit.errors.UnknownConceptError`, with the
    closest ones) or when no input matches (:class:`~toolkit.errors.EmptyResultError`,
    unless ``allow_empty``).

    Example::

        report = filter_inputs("export.zip", "cats.zip", criteria=FilterCriteria(concepts=("cat",)))
        print(report.inputs_written, "of", report.inputs_read)
    """
    limit = criteria.limit
    kept = 0
    everything = criteria.is_empty
    keys = ConceptKeys(criteria.concepts + criteria.no_concepts)
    name = _source_name(source)

    def select(batch: SourceBatch) -> list[bool] | None:
        nonlocal kept
        inputs = batch.inputs
        if keys and not keys.complete:
            for record in inputs:
                keys.observe(record)
        if everything:
            keep = None
            count = len(inputs)
        else:
            ids = criteria.ids
            if ids is not None and ids.isdisjoint(record.id for record in inputs):
                return [False] * len(inputs)
            keep = [criteria.matches(record) for record in inputs]
            count = sum(keep)
        if limit is not None and kept + count > limit:
            room = limit - kept
            keep = list(keep) if keep is not None else [True] * len(inputs)
            for i, flag in enumerate(keep):
                if flag:
                    if room:
                        room -= 1
                    else:
                        keep[i] = False
            count = limit - kept
        kept += count
        return keep

    def stop() -> bool:
        return limit is not None and kept >= limit

    def check(read: int, written: int) -> None:
        if limit is None or kept < limit:  # the whole archive was read
            keys.check(name)
        if not written and not allow_empty:
            raise EmptyResultError(
                _empty_message(name, _no_match(criteria, read)), params=[_ALLOW_EMPTY]
            )

    read, written, stopped = _rewrite_one(
        source,
        output,
        select,
        flavour=flavour,
        batch_size=batch_size,
        limits=limits,
        progress=progress,
        stop=stop,
        before_commit=check,
    )
    return FilterReport(
        source=name,
        output=_source_name(output, "<stream>"),
        criteria=criteria,
        inputs_read=read,
        inputs_written=written,
        limit_reached=stopped,
    )


# -- shared -------------------------------------------------------------------------------


def _source_name(value: object, stream_name: str = "<stream 1>") -> str:
    if hasattr(value, "read") or hasattr(value, "write"):
        return stream_name
    return str(value)


#: How messages name the parameter that accepts an empty result.
_ALLOW_EMPTY = param("allow_empty")
_STRICT = param("strict")


def _empty_message(source: str, why: str) -> str:
    return (
        f"{source}: the output would hold no inputs: {why}; nothing was written "
        f"(pass {_ALLOW_EMPTY} to write an empty archive)"
    )


def _no_match(criteria: FilterCriteria, read: int) -> str:
    """Why a filter kept nothing, for its error message."""
    if not read:
        return "the archive is empty"
    if criteria.limit == 0:
        return "the limit is 0"
    parts = []
    for key, value in criteria.to_dict().items():
        if key == "ids":
            parts.append(f"the {value} ids given")
        elif value is True:
            parts.append(key)
        elif isinstance(value, list):
            parts.append(f"{key} " + ", ".join(repr(v) for v in value))
    return f"none of the {read} inputs matches {'; '.join(parts)}"


def _missing_message(source: str, missing: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in missing[:_NAMED_IDS])
    more = f" and {len(missing) - _NAMED_IDS} more" if len(missing) > _NAMED_IDS else ""
    subject = "id is" if len(missing) == 1 else "ids are"
    return (
        f"{source}: {len(missing)} {subject} not in the archive: {shown}{more}; nothing was "
        "written. List the ids with 'clarifai-archive inputs list', or leave out "
        f"{_STRICT} to remove the others"
    )


def _rewrite_one(
    source: str | os.PathLike[str] | Stream,
    output: str | os.PathLike[str] | Stream,
    select: Callable[[SourceBatch], list[bool] | None],
    *,
    flavour: Flavour | None,
    batch_size: int | None,
    limits: Limits,
    progress: Callable[[int], None] | None,
    stop: Callable[[], bool] | None = None,
    before_commit: Callable[[int, int], None] | None = None,
) -> tuple[int, int, bool]:
    """Copy the inputs ``select`` keeps (None: the whole batch) from one source.

    ``before_commit(read, written)`` may raise to leave nothing written.
    Returns (inputs read, inputs written, stopped early)."""
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if flavour not in (None, "protobuf", "json"):
        raise ValueError(f"unknown flavour {flavour!r}; use 'protobuf' or 'json'")
    with ExitStack() as stack:
        (opened,) = open_sources([source], limits=limits, stack=stack)
        destination = open_destination(output, stack)
        if destination.stream is None:
            check_not_a_source(destination.path, [opened])
        read = 0
        stopped = False
        writer = output_writer(
            destination.path,
            batch_size=batch_size,
            flavour=flavour or opened.reader.flavour,
            split=_folder(opened),
        )
        try:
            sink = BatchSink(writer, batch_size)
            for batch in iter_batches([opened.reader]):
                keep = select(batch)
                if keep is None:
                    sink.add_batch(batch)
                else:
                    _add_kept(sink, batch, keep)
                sink.end_source_batch()
                read += len(batch)
                if progress is not None:
                    progress(len(batch))
                if stop is not None and stop():
                    stopped = True
                    break
            sink.flush()
            if before_commit is not None:
                before_commit(read, sink.added)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        destination.finish()
    return read, sink.added, stopped


def _folder(source: Source) -> str:
    """The batch folder of the source's first entry (the SDK's split name), else ``all``."""
    entries = source.reader.entries
    return entries[0].split if entries and entries[0].split else "all"


def _add_kept(sink: BatchSink, batch: SourceBatch, keep: list[bool]) -> None:
    """Copy the runs of kept inputs of one batch."""
    run = -1
    for k, flag in enumerate(keep):
        if flag:
            if run < 0:
                run = k
        elif run >= 0:
            sink.add_range(batch, run, k)
            run = -1
    if run >= 0:
        sink.add_range(batch, run, len(keep))
