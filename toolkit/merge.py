"""Merge archives into one, with an explicit policy for input ids that repeat.

Inputs are written in the order of the sources and, inside each, in the archive's
order. An input id seen again is:

- *identical* when its content (the deterministic serialization of the input) is the
  same as a kept input of that id: it is kept once and counted, never a conflict;
- merged, with ``merge_annotations=True``, when its media are the same (same bytes,
  same hosted URL or same URL): the kept input gets the union of their concepts (by
  concept id; the kept input's label wins) and regions (by region id);
- otherwise a *conflict*, resolved by ``on_conflict``:

  ``error``     (default) nothing is written; :class:`~toolkit.errors.ConflictError` names the
                first colliding ids and their archives.
  ``skip``      the first input is kept, later ones are left out.
  ``overwrite`` the last input is kept, earlier ones are left out.
  ``rename``    every version is kept; the later ones get the id ``<id>~<n>``, with the
                smallest ``n >= 2`` that no input of any source (nor an earlier rename) uses.

Every kept input stays at its own position: ``skip`` keeps the first occurrence where
it is, ``overwrite`` keeps the last occurrence where it is (the earlier ones leave no
gap), an input whose annotations grow keeps its position, and a renamed input stays
where it was found. A conflict inside one source counts like one across sources.

How it runs: one pass copies every batch (as wire bytes, never re-encoded; the writing
runs in a second thread) while it collects a hash of every id, about 75 bytes of
memory per input; no input is held. When no id repeats, that pass was the merge.
Otherwise the output is dropped, a second pass compares the inputs whose ids repeat (a
16-byte blake2b digest of each, about 200 bytes per repeated id) and decides, and a
third writes the result. ``merge_annotations`` also keeps the concepts and regions to
add until they are written. Only changed inputs are serialized again.

Example::

    report = merge_archives(["a.zip", "b.zip"], "merged.zip", on_conflict="skip")
    print(report.added, len(report.skipped))
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from ._rewrite import (
    BackgroundWriter,
    BatchSink,
    Source,
    Stream,
    check_not_a_source,
    open_destination,
    open_sources,
    output_writer,
)
from .archive import ArchiveWriter, Flavour
from .batches import iter_batches
from .errors import ArchiveError, ConflictError, EmptyResultError
from .limits import DEFAULT_LIMITS, Limits
from .messages import Data, Input
from .records import input_type

__all__ = [
    "CONFLICT_POLICIES",
    "RENAME_SEPARATOR",
    "Affected",
    "ConflictPolicy",
    "MergeReport",
    "Renamed",
    "SourceCount",
    "merge_archives",
    "renamed_id",
]

log = logging.getLogger(__name__)

ConflictPolicy = Literal["error", "skip", "overwrite", "rename"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("error", "skip", "overwrite", "rename")
#: Renamed ids are ``<id>~<n>``.
RENAME_SEPARATOR = "~"
#: Colliding ids named in a ConflictError message.
_NAMED_CONFLICTS = 5

# What happens to each input (by its position over all sources); 0 = copied unchanged.
_KEEP = 0
_IDENTICAL = 1
_SKIPPED = 2
_OVERWRITTEN = 3
_MERGED = 4
_CHANGED = 5  # kept, but renamed and/or given more annotations


def renamed_id(input_id: str, n: int) -> str:
    """The id ``rename`` gives to version ``n`` (2, 3, ...) of ``input_id``.

    Example::

        renamed_id("img-7", 2)   # 'img-7~2'
    """
    return f"{input_id}{RENAME_SEPARATOR}{n}"


class Affected(NamedTuple):
    """One input a merge left out or changed, and the source it came from."""

    id: str
    source: str


class Renamed(NamedTuple):
    """An input kept under a new id."""

    id: str
    new_id: str
    source: str


@dataclass(frozen=True)
class SourceCount:
    """Inputs read from one source."""

    path: str
    inputs: int


@dataclass(frozen=True)
class MergeReport:
    """What a merge did. Every input read is counted once: ``inputs_read == added +
    len(identical) + len(skipped) + len(overwritten) + len(annotations_merged)``
    (renamed inputs are part of ``added``)."""

    output: str
    on_conflict: str
    merge_annotations: bool
    sources: tuple[SourceCount, ...]
    #: Inputs written to the output.
    added: int
    #: Inputs left out because an identical one (same id, same content) is kept.
    identical: tuple[Affected, ...] = ()
    #: Inputs left out by ``skip`` (a different input with that id came first).
    skipped: tuple[Affected, ...] = ()
    #: Inputs left out by ``overwrite`` (a different input with that id came later).
    overwritten: tuple[Affected, ...] = ()
    #: Inputs kept under a new id by ``rename``.
    renamed: tuple[Renamed, ...] = ()
    #: Inputs whose annotations went into the kept input with the same id and media.
    annotations_merged: tuple[Affected, ...] = ()

    @property
    def inputs_read(self) -> int:
        """Inputs in all sources together."""
        return sum(source.inputs for source in self.sources)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts first, then the ids affected."""
        return {
            "output": self.output,
            "on_conflict": self.on_conflict,
            "merge_annotations": self.merge_annotations,
            "sources": [{"path": s.path, "inputs": s.inputs} for s in self.sources],
            "inputs_read": self.inputs_read,
            "added": self.added,
            "identical": len(self.identical),
            "skipped": len(self.skipped),
            "overwritten": len(self.overwritten),
            "renamed": len(self.renamed),
            "annotations_merged": len(self.annotations_merged),
            "ids": {
                "identical": [a._asdict() for a in self.identical],
                "skipped": [a._asdict() for a in self.skipped],
                "overwritten": [a._asdict() for a in self.overwritten],
                "renamed": [r._asdict() for r in self.renamed],
                "annotations_merged": [a._asdict() for a in self.annotations_merged],
            },
        }


def merge_archives(
    sources: Sequence[str | os.PathLike[str] | Stream],
    output: str | os.PathLike[str] | Stream,
    *,
    on_conflict: ConflictPolicy = "error",
    merge_annotations: bool = False,
    allow_empty: bool = False,
    flavour: Flavour = "protobuf",
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> MergeReport:
    """Merge ``sources`` (paths or binary streams, either flavour) into ``output``.

    See the module docstring for the policies and the order of the result. The sources
    are only read. ``output`` is written under a temporary name and moved into place
    when complete (an existing file is replaced; it may not be one of the sources); on
    any error nothing is left behind. A stream ``output`` gets the archive once it is
    complete. ``batch_size=None`` keeps the sources' batches as they are. ``progress``
    is called with counts of inputs done, adding up to the inputs read. When every
    source is empty, :class:`~toolkit.errors.EmptyResultError` is raised and nothing is
    written, unless ``allow_empty``.

    Example::

        report = merge_archives(["v1.zip", "v2.zip"], "all.zip", on_conflict="overwrite")
        for item in report.overwritten:
            print(item.id, "replaced, from", item.source)
    """
    if on_conflict not in CONFLICT_POLICIES:
        raise ValueError(
            f"unknown on_conflict {on_conflict!r}; use one of {', '.join(CONFLICT_POLICIES)}"
        )
    if flavour not in ("protobuf", "json"):
        raise ValueError(f"unknown flavour {flavour!r}; use 'protobuf' or 'json'")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not sources:
        raise ValueError("merge_archives needs at least one source")
    with ExitStack() as stack:
        opened = open_sources(sources, limits=limits, stack=stack)
        destination = open_destination(output, stack)
        if destination.stream is None:
            check_not_a_source(destination.path, opened)
        merger = _Merger(
            opened,
            destination.path,
            output_name=destination.name,
            on_conflict=on_conflict,
            merge_annotations=merge_annotations,
            allow_empty=allow_empty,
            flavour=flavour,
            batch_size=batch_size,
            progress=progress,
        )
        report = merger.run()
        destination.finish()
    return report


# -- the work ---------------------------------------------------------------------------


class _Version:
    """One kept version of a repeated id, while the repeats are compared."""

    __slots__ = ("digest", "digests", "extras", "media", "merged", "ordinal", "renamed", "source")

    def __init__(self, ordinal: int, source: int, digest: bytes, media: Any) -> None:
        self.ordinal = ordinal
        self.source = source
        self.digest = digest
        self.media = media
        #: Digests of inputs merged into this one (they count as identical later).
        self.digests: set[bytes] | None = None
        #: Positions of the inputs merged into this one.
        self.merged: list[int] | None = None
        #: Their annotations: serialized ``Data`` holding concepts and regions only.
        self.extras: list[bytes] | None = None
        self.renamed = False

    def has(self, digest: bytes) -> bool:
        return digest == self.digest or (self.digests is not None and digest in self.digests)

    def merge(self, ordinal: int, digest: bytes, extra: bytes) -> None:
        if self.digests is None:
            self.digests, self.merged, self.extras = set(), [], []
        assert self.merged is not None and self.extras is not None
        self.digests.add(digest)
        self.merged.append(ordinal)
        self.extras.append(extra)


#: A version that needs no more than this, packed: 16-byte digest, position, source
#: (the versions of an id kept by ``rename`` follow each other in one bytes object).
_PACKED = struct.Struct("<16sQI")


def _new_id(input_id: str, taken: set[str], assigned: set[str]) -> str:
    """``<id>~<n>`` with the smallest n >= 2 that no input uses (nor an earlier rename)."""
    n = 2
    while renamed_id(input_id, n) in taken or renamed_id(input_id, n) in assigned:
        n += 1
    new_id = renamed_id(input_id, n)
    assigned.add(new_id)
    return new_id


def _new_state(ordinal: int, source: int, digest: bytes, media: Any) -> bytes | _Version:
    """The first version of an id: packed in 28 bytes unless media must be compared."""
    if media is None:
        return _PACKED.pack(digest, ordinal, source)
    return _Version(ordinal, source, digest, media)


def _versions(state: bytes | _Version | list[Any]) -> list[_Version]:
    """The versions kept for an id (packed ones unpacked into new objects)."""
    if isinstance(state, list):
        return state
    if isinstance(state, bytes):
        return [
            _Version(ordinal, source, digest, None)
            for digest, ordinal, source in _PACKED.iter_unpack(state)
        ]
    return [state]


@dataclass
class _Plan:
    """What the last pass does: a code per input position, and the changed inputs."""

    codes: bytearray
    #: Position -> annotations to add (serialized ``Data``).
    extras: dict[int, list[bytes]]
    #: Positions of the inputs kept under a new id, ascending.
    rename_at: array[int]
    #: Ids a new id must avoid (besides those given before).
    taken: set[str]


class _Merger:
    def __init__(
        self,
        sources: list[Source],
        path: os.PathLike[str],
        *,
        output_name: str,
        on_conflict: ConflictPolicy,
        merge_annotations: bool,
        allow_empty: bool,
        flavour: Flavour,
        batch_size: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.allow_empty = allow_empty
        self.sources = sources
        self.path = path
        self.output_name = output_name
        self.on_conflict = on_conflict
        self.merge_annotations = merge_annotations
        self.flavour = flavour
        self.batch_size = batch_size
        self.progress = progress
        self.counts: list[int] = []
        #: Inputs reported to ``progress`` so far.
        self.reported = 0

    def run(self) -> MergeReport:
        suspects, added = self._copy_all()
        if not suspects:
            return self._report(added)
        log.info("%d input ids repeat; comparing their inputs", len(suspects))
        plan = self._resolve(suspects)
        del suspects
        return self._write(plan)

    def _writer(self) -> tuple[ArchiveWriter | BackgroundWriter, BatchSink]:
        writer = output_writer(self.path, batch_size=self.batch_size, flavour=self.flavour)
        return writer, BatchSink(writer, self.batch_size)

    def _advance(self, done: int) -> None:
        """Report progress up to ``done`` inputs written in all."""
        if self.progress is not None and done > self.reported:
            self.progress(done - self.reported)
            self.reported = done

    def _report(self, added: int, **lists: Any) -> MergeReport:
        return MergeReport(
            output=self.output_name,
            on_conflict=self.on_conflict,
            merge_annotations=self.merge_annotations,
            sources=tuple(
                SourceCount(path=s.name, inputs=n)
                for s, n in zip(self.sources, self.counts, strict=True)
            ),
            added=added,
            **lists,
        )

    # -- pass 1: copy everything while collecting ids ---------------------------------

    def _copy_all(self) -> tuple[set[int], int]:
        """Copy every input while the ids are collected; stop writing at the first id seen
        twice. Returns the hashes of the repeated ids (empty: the output is complete)."""
        writer, sink = self._writer()
        seen: set[int] = set()
        suspects: set[int] = set()
        writing = True
        try:
            for source in self.sources:
                count = 0
                for batch in iter_batches([source.reader]):
                    hashes = [hash(record.id) for record in batch.inputs]
                    if not seen.isdisjoint(hashes):
                        suspects.update(seen.intersection(hashes))
                    before = len(seen)
                    seen.update(hashes)
                    if len(seen) - before != len(hashes):  # seen before, or twice in the batch
                        suspects.update(h for h, n in Counter(hashes).items() if n > 1)
                    count += len(hashes)
                    if writing:
                        if suspects:
                            writing = False
                            writer.abort()
                        else:
                            sink.add_batch(batch)
                            sink.end_source_batch()
                            self._advance(sink.added)
                self.counts.append(count)
                if writing:
                    sink.flush()  # each source starts a new batch
            if writing:
                if not sink.added and not self.allow_empty:
                    names = ", ".join(s.name for s in self.sources)
                    subject = "source holds" if len(self.sources) == 1 else "sources hold"
                    raise EmptyResultError(
                        f"{self.output_name}: the output would hold no inputs: the "
                        f"{subject} none ({names}); nothing was written (pass allow_empty=True "
                        "to write an empty archive)",
                        params=["allow_empty=True"],
                    )
                writer.close()
        except BaseException:
            writer.abort()
            raise
        return suspects, sink.added

    # -- pass 2: compare the inputs whose ids repeat ----------------------------------

    def _resolve(self, suspects: set[int]) -> _Plan:
        total = sum(self.counts)
        codes = bytearray(total)
        states: dict[str, Any] = {}
        touched: list[_Version] = []
        renames = array("q")  # positions of the inputs that get a new id
        taken: set[str] = set()
        conflicts: list[tuple[str, int, int]] = []
        n_conflicts = 0
        rename = self.on_conflict == "rename"
        merge = self.merge_annotations
        ordinal = 0
        for source in self.sources:
            count = 0
            for batch in iter_batches([source.reader]):
                inputs = batch.inputs
                ids = [record.id for record in inputs]
                hashes = list(map(hash, ids))
                if rename and RENAME_SEPARATOR in "".join(ids):
                    # Ids that look renamed, for a repeated id: a new id must avoid them.
                    for input_id in ids:
                        base, sep, _ = input_id.rpartition(RENAME_SEPARATOR)
                        if sep and hash(base) in suspects:
                            taken.add(input_id)
                if not suspects.isdisjoint(hashes):
                    for k, h in enumerate(hashes):
                        if h not in suspects:
                            continue
                        record = inputs[k]
                        input_id = ids[k]
                        at = ordinal + k
                        digest = hashlib.blake2b(
                            record.SerializeToString(deterministic=True), digest_size=16
                        ).digest()
                        media = _media_key(record) if merge else None
                        state = states.get(input_id)
                        if state is None:
                            states[input_id] = _new_state(at, source.index, digest, media)
                            continue
                        versions = _versions(state)
                        if any(v.has(digest) for v in versions):
                            codes[at] = _IDENTICAL
                            continue
                        if merge:
                            target = next(
                                (v for v in versions if _same_media(v.media, media)), None
                            )
                            if target is not None:
                                target.merge(at, digest, _annotations(record))
                                touched.append(target)
                                codes[at] = _MERGED
                                continue
                        # A conflict.
                        policy = self.on_conflict
                        if policy == "error":
                            n_conflicts += 1
                            if len(conflicts) < _NAMED_CONFLICTS:
                                conflicts.append((input_id, versions[0].source, source.index))
                            codes[at] = _SKIPPED
                        elif policy == "skip":
                            codes[at] = _SKIPPED
                        elif policy == "overwrite":
                            old = versions[0]
                            codes[old.ordinal] = _OVERWRITTEN
                            for merged_at in old.merged or ():
                                codes[merged_at] = _OVERWRITTEN
                            states[input_id] = _new_state(at, source.index, digest, media)
                        elif merge:  # rename, and later inputs may merge into this one
                            version = _Version(at, source.index, digest, media)
                            version.renamed = True
                            versions.append(version)
                            states[input_id] = versions
                            touched.append(version)
                        else:  # rename
                            states[input_id] = state + _PACKED.pack(digest, at, source.index)
                            renames.append(at)
                count += len(ids)
                ordinal += len(ids)
            if count != self.counts[source.index]:
                raise _changed(source)
        if n_conflicts:
            raise self._conflict_error(conflicts, n_conflicts)
        del states
        # Kept inputs that get annotations or are renamed (not those overwritten since).
        extras: dict[int, list[bytes]] = {}
        for version in touched:
            at = version.ordinal
            if codes[at] != _KEEP:  # overwritten since, or seen already
                continue
            codes[at] = _CHANGED
            if version.extras:
                extras[at] = version.extras
            if version.renamed:
                renames.append(at)
        del touched
        for at in renames:
            codes[at] = _CHANGED
        return _Plan(codes=codes, extras=extras, rename_at=array("q", sorted(renames)), taken=taken)

    def _conflict_error(self, conflicts: list[tuple[str, int, int]], total: int) -> ConflictError:
        names = self.sources

        def where(first: int, later: int) -> str:
            if first == later:
                return f"twice in {names[first].name}"
            return f"in {names[first].name} and {names[later].name}"

        more = f" and {total - len(conflicts)} more" if total > len(conflicts) else ""
        subject = "input id has" if total == 1 else "input ids have"
        pairs = {(first, later) for _, first, later in conflicts}
        if len(pairs) == 1:
            ((first, later),) = pairs
            shown = ", ".join(repr(input_id) for input_id, _, _ in conflicts)
            found = f" {where(first, later)}: {shown}{more}"
        else:
            shown = "; ".join(f"{i!r} {where(first, later)}" for i, first, later in conflicts)
            found = f": {shown}{more}"
        return ConflictError(
            f"{total} {subject} different inputs{found}; nothing was written. Choose what "
            "to keep with on_conflict='skip' (the first), on_conflict='overwrite' (the last) "
            "or on_conflict='rename' (both), or use merge_annotations=True when only their "
            "labels differ",
            params=[
                "on_conflict='skip'",
                "on_conflict='overwrite'",
                "on_conflict='rename'",
                "merge_annotations=True",
            ],
        )

    # -- pass 3: write the plan --------------------------------------------------------

    def _write(self, plan: _Plan) -> MergeReport:
        codes, extras = plan.codes, plan.extras
        rename_at, taken = plan.rename_at, plan.taken
        assigned: set[str] = set()
        next_rename = 0
        lists: dict[int, list[Affected]] = {
            _IDENTICAL: [],
            _SKIPPED: [],
            _OVERWRITTEN: [],
            _MERGED: [],
        }
        renamed: list[Renamed] = []
        writer, sink = self._writer()
        try:
            ordinal = 0
            for source in self.sources:
                count = 0
                for batch in iter_batches([source.reader]):
                    n = len(batch)
                    count += n
                    if codes.count(_KEEP, ordinal, ordinal + n) == n:
                        sink.add_batch(batch)
                    else:
                        run = -1
                        inputs = batch.inputs
                        for k in range(n):
                            code = codes[ordinal + k]
                            if code == _KEEP:
                                if run < 0:
                                    run = k
                                continue
                            if run >= 0:
                                sink.add_range(batch, run, k)
                                run = -1
                            record = inputs[k]
                            if code == _CHANGED:
                                at = ordinal + k
                                changed = Input()
                                changed.CopyFrom(record)
                                if next_rename < len(rename_at) and rename_at[next_rename] == at:
                                    next_rename += 1
                                    new_id = _new_id(record.id, taken, assigned)
                                    changed.id = new_id
                                    renamed.append(Renamed(record.id, new_id, source.name))
                                if at in extras:
                                    _union_annotations(changed.data, extras[at])
                                sink.add_input(changed)
                            else:
                                lists[code].append(Affected(record.id, source.name))
                        if run >= 0:
                            sink.add_range(batch, run, n)
                    sink.end_source_batch()
                    ordinal += n
                    self._advance(ordinal)
                if count != self.counts[source.index]:
                    raise _changed(source)
                sink.flush()
            writer.close()
        except BaseException:
            writer.abort()
            raise
        return self._report(
            sink.added,
            identical=tuple(lists[_IDENTICAL]),
            skipped=tuple(lists[_SKIPPED]),
            overwritten=tuple(lists[_OVERWRITTEN]),
            renamed=tuple(renamed),
            annotations_merged=tuple(lists[_MERGED]),
        )


def _changed(source: Source) -> ArchiveError:
    return ArchiveError(
        f"{source.name}: the archive changed while it was being merged; run the merge again"
    )


# -- media and annotations ----------------------------------------------------------------


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _media_key(record: Input) -> tuple[str, bytes | None, bytes | None, bytes | None]:
    """(type, digest of the bytes, digest of the hosted URL, digest of the URL)."""
    kind = input_type(record)
    data = record.data
    if kind == "unknown":
        return (kind, None, None, None)
    media: Any = getattr(data, kind)
    if kind == "text":
        content = _digest(media.raw.encode("utf-8")) if media.raw else None
    else:
        content = _digest(media.base64) if media.base64 else None
    hosted = None
    if media.HasField("hosted") and (media.hosted.prefix or media.hosted.suffix):
        hosted = _digest(f"{media.hosted.prefix}\0{media.hosted.suffix}".encode())
    url = _digest(media.url.encode("utf-8")) if media.url else None
    return (kind, content, hosted, url)


def _same_media(a: Any, b: Any) -> bool:
    """Same type, and the same bytes, else the same hosted URL, else the same URL
    (compared on what both have; inputs with no media at all match)."""
    if a[0] != b[0]:
        return False
    for x, y in zip(a[1:], b[1:], strict=True):
        if x is not None and y is not None:
            return bool(x == y)
    return bool(a[1:] == b[1:] == (None, None, None))


def _annotations(record: Input) -> bytes:
    """The input's concepts and regions, as a serialized ``Data``."""
    extra = Data()
    extra.concepts.extend(record.data.concepts)
    extra.regions.extend(record.data.regions)
    blob: bytes = extra.SerializeToString(deterministic=True)
    return blob


def _union_annotations(data: Data, extras: list[bytes]) -> None:
    """Add the concepts (new concept ids) and regions (new region ids) of ``extras``."""
    concepts = {c.id or f"name:{c.name}" for c in data.concepts}
    regions = {r.id or r.SerializeToString(deterministic=True) for r in data.regions}
    for blob in extras:
        extra = Data.FromString(blob)
        for concept in extra.concepts:
            key = concept.id or f"name:{concept.name}"
            if key not in concepts:
                concepts.add(key)
                data.concepts.add().CopyFrom(concept)
        for region in extra.regions:
            rkey = region.id or region.SerializeToString(deterministic=True)
            if rkey not in regions:
                regions.add(rkey)
                data.regions.add().CopyFrom(region)
