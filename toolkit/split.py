"""Split an archive into one archive per split (train/val/test...), reproducibly.

Two passes: the first reads each input's positive concepts (on the input, its video
frames and its regions) and assigns every input to a split; the second copies each
input, as wire bytes, into ``<out_dir>/<split>.zip``, whose batch folder is the split
name (the official SDK reads it as the split). Inputs keep the archive's order inside
each split. Memory holds the assignment (one byte per input) and, for the stratified
split, each input's concept indices.

Assignment, deterministic for a ``seed``:

- plain: the split sizes are the ratios times the input count, rounded by largest
  remainder (so they add up); a seeded permutation of the inputs fills them.
- ``stratify_by="concept"``: iterative stratification (Sechidis, Tsoumakas and Vlahavas,
  2011) over each input's set of positive concepts. Each split wants ``ratio x count``
  inputs of every concept. The concept with the fewest inputs still unassigned goes
  first: each of its inputs (in seeded random order) goes to the split that wants that
  concept most, ties broken by the split that wants the most inputs overall, then at
  random (seeded); the wants of all the input's concepts are updated. Inputs with no
  concept fill the splits that want the most inputs. With one concept per input, every
  concept's count in each split is within one of its ratio share.

Leak-free splits, ``group_by``: inputs of one group always land in the same split.

- ``near-duplicates[:THRESHOLD]``: groups of near-duplicate inputs (pairs whose
  embeddings score at least THRESHOLD, default 0.95 cosine, joined transitively), from an
  index folder (``index``) or from an exact in-memory index of the archive's embeddings
  (embedding number 0), built while the first pass reads them; inputs without one are
  groups of their own.
- ``metadata:KEY``: inputs sharing the value of metadata KEY (dotted; a source video, a
  patient id); inputs without the key are groups of their own.

Groups are placed whole, largest first (seeded random order among equals), each in the
split that still wants the most inputs; with ``stratify_by="concept"`` a group goes
first by its rarest concept, to the split that wants that concept most (the iterative
stratification above, with a group's concept counts in place of one input's). Ratios
and concept shares hold as well as the groups allow; the report gives the achieved
ratios and the largest group.

Example::

    report = split_archive("export.zip", "splits", ratios={"train": 0.8, "val": 0.2},
                           seed=7, stratify_by="concept", tag=True)
    print(report.counts)   # {'train': 24, 'val': 7}
    report = split_archive("export.zip", "splits", ratios={"train": 0.8, "val": 0.2},
                           group_by="near-duplicates:0.9")
"""

from __future__ import annotations

import heapq
import json
import math
import os
import random
import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from google.protobuf import json_format

from ._atomic import make_parents, remove_created
from ._rewrite import (
    BatchSink,
    Source,
    Stream,
    check_not_a_source,
    open_sources,
)
from .archive import ArchiveWriter, Flavour
from .batches import iter_batches
from .errors import ArchiveError, EmptyResultError, OutputError, param
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input
from .records import iter_regions
from .subset import _lookup

__all__ = [
    "RATIO_TOLERANCE",
    "GroupBy",
    "SplitReport",
    "check_ratios",
    "parse_group_by",
    "parse_ratios",
    "split_archive",
]

#: How far from 1 the ratios may add up.
RATIO_TOLERANCE = 1e-6
#: Split names become file and folder names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MAX_SPLITS = 255
#: Wants closer than this count as equal (float noise of ratio x count).
_EPS = 1e-9


def parse_ratios(text: str) -> dict[str, float]:
    """``"train=0.8,val=0.2"`` -> ``{"train": 0.8, "val": 0.2}``, checked by :func:`check_ratios`.

    Example::

        parse_ratios("train=0.7, val=0.15, test=0.15")
    """
    ratios: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"{part!r} is not NAME=RATIO (e.g. train=0.8,val=0.2)")
        if name in ratios:
            raise ValueError(f"split {name!r} is given twice")
        try:
            ratios[name] = float(value)
        except ValueError:
            raise ValueError(f"{part!r}: {value.strip()!r} is not a number") from None
    return check_ratios(ratios)


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """The ratios as a dict, or ValueError: names are file-name safe, ratios are finite and
    not negative, and they add up to 1 (within :data:`RATIO_TOLERANCE`).

    Example::

        check_ratios({"train": 0.8, "val": 0.2})
    """
    checked = dict(ratios)
    if not checked:
        raise ValueError("no splits given; e.g. train=0.8,val=0.2")
    if len(checked) > _MAX_SPLITS:
        raise ValueError(f"at most {_MAX_SPLITS} splits")
    for name, ratio in checked.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"split name {name!r}: use letters, digits, '_', '-' and '.' "
                "(not first), as it names a file"
            )
        if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio < 0:
            raise ValueError(f"split {name!r}: ratio {ratio!r} must be a number from 0 to 1")
    total = math.fsum(checked.values())
    if abs(total - 1.0) > RATIO_TOLERANCE:
        raise ValueError(
            f"the ratios add up to {total:g}, not 1 (e.g. train=0.8,val=0.2); "
            "give every split its share"
        )
    return {name: float(ratio) for name, ratio in checked.items()}


@dataclass(frozen=True)
class GroupBy:
    """What keeps inputs together: ``near-duplicates`` (with a threshold) or ``metadata``
    (with a dotted key)."""

    kind: Literal["near-duplicates", "metadata"]
    threshold: float | None = None
    key: str = ""

    def __str__(self) -> str:
        if self.kind == "metadata":
            return f"metadata:{self.key}"
        return "near-duplicates" + (f":{self.threshold:g}" if self.threshold is not None else "")


def parse_group_by(text: str) -> GroupBy:
    """``"near-duplicates[:THRESHOLD]"`` or ``"metadata:KEY"`` -> :class:`GroupBy`.

    Example::

        parse_group_by("near-duplicates:0.9")   # GroupBy('near-duplicates', 0.9)
        parse_group_by("metadata:source.video")
    """
    kind, sep, rest = text.strip().partition(":")
    if kind == "near-duplicates":
        if not sep:
            return GroupBy("near-duplicates")
        try:
            threshold = float(rest)
        except ValueError:
            raise ValueError(
                f"{text!r}: {rest!r} is not a number (e.g. near-duplicates:0.9)"
            ) from None
        if not math.isfinite(threshold):
            raise ValueError(f"{text!r}: the threshold must be a finite number")
        return GroupBy("near-duplicates", threshold=threshold)
    if kind == "metadata":
        key = rest.strip()
        if not key or any(not part for part in key.split(".")):
            raise ValueError(f"{text!r}: give a metadata key, e.g. metadata:source.video")
        return GroupBy("metadata", key=key)
    raise ValueError(
        f"{text!r}: group by near-duplicates[:THRESHOLD] or metadata:KEY "
        "(e.g. near-duplicates:0.95, metadata:patient)"
    )


@dataclass(frozen=True)
class SplitReport:
    """What ``split_archive`` wrote."""

    source: str
    out_dir: str
    seed: int
    stratify_by: str | None
    ratios: dict[str, float]
    #: Split name -> archive written.
    files: dict[str, str]
    #: Split name -> inputs in it.
    counts: dict[str, int]
    #: Concept id -> split name -> inputs with that positive concept.
    concepts: dict[str, dict[str, int]]
    tagged: bool = False
    #: ``near-duplicates[:T]`` or ``metadata:KEY`` when inputs were kept in groups.
    group_by: str | None = None
    #: With ``group_by``: how many groups, inputs in groups of two or more, inputs that
    #: could not be grouped (no embedding / no such key), and the largest group (size,
    #: split, first ids).
    groups: dict[str, Any] | None = None

    @property
    def achieved(self) -> dict[str, float]:
        """Split name -> share of the inputs it got."""
        total = sum(self.counts.values())
        return {name: (count / total if total else 0.0) for name, count in self.counts.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = {
            "source": self.source,
            "out_dir": self.out_dir,
            "seed": self.seed,
            "stratify_by": self.stratify_by,
            "tagged": self.tagged,
            "ratios": dict(self.ratios),
            "files": dict(self.files),
            "counts": dict(self.counts),
            "achieved_ratios": {k: round(v, 6) for k, v in self.achieved.items()},
            "concepts": {c: dict(v) for c, v in sorted(self.concepts.items())},
        }
        if self.group_by is not None:
            out["group_by"] = self.group_by
            out["groups"] = self.groups
        return out


def split_archive(
    source: str | os.PathLike[str] | Stream,
    out_dir: str | os.PathLike[str],
    *,
    ratios: Mapping[str, float],
    seed: int = 0,
    stratify_by: Literal["concept"] | None = None,
    tag: bool = False,
    group_by: str | GroupBy | None = None,
    index: str | os.PathLike[str] | Any | None = None,
    allow_empty: bool = False,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> SplitReport:
    """Write one archive per split, ``<out_dir>/<name>.zip``, as the module docstring says.

    ``group_by`` (``"near-duplicates[:THRESHOLD]"``, ``"metadata:KEY"`` or a
    :class:`GroupBy`) keeps every group in one split; ``index`` (a folder or a loaded
    :class:`~toolkit.index.SimilarityIndex`) gives the near-duplicates instead of the
    archive's own embeddings.

    ``ratios`` must add up to 1 (ValueError otherwise). ``tag=True`` also records the
    split name in each input's metadata under ``split`` (replacing any value there).
    ``out_dir`` is created if needed; existing ``<name>.zip`` files are replaced, other
    files are left alone. All archives are moved into place together at the end; on an
    error none is. ``progress`` is called with counts of inputs read (each is read
    twice: to assign it, then to copy it). A split that would get no input (an empty
    source, or more splits than inputs) is an :class:`~toolkit.errors.EmptyResultError`
    before anything is written, unless ``allow_empty``.

    Example::

        report = split_archive("export.zip", "out", ratios={"train": 0.9, "test": 0.1}, seed=1)
        report.files["train"]   # 'out/train.zip'
    """
    checked = check_ratios(ratios)
    if stratify_by not in (None, "concept"):
        raise ValueError(f"unknown stratify_by {stratify_by!r}; use 'concept' or None")
    if flavour not in (None, "protobuf", "json"):
        raise ValueError(f"unknown flavour {flavour!r}; use 'protobuf' or 'json'")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    grouping = parse_group_by(group_by) if isinstance(group_by, str) else group_by
    if index is not None and (grouping is None or grouping.kind != "near-duplicates"):
        raise ValueError("an index goes with group_by='near-duplicates'")
    names = list(checked)
    out = Path(out_dir)
    with ExitStack() as stack:
        (opened,) = open_sources([source], limits=limits, stack=stack)
        paths = {name: out / f"{name}.zip" for name in names}
        for path in paths.values():
            check_not_a_source(path, [opened])
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: is a file; give a folder for the split archives")
        labels = _Labels()
        keys = _GroupKeys(grouping, index) if grouping is not None else None
        total = 0
        for batch in iter_batches([opened.reader]):
            for record in batch.inputs:
                labels.add(record)
                if keys is not None:
                    keys.add(record)
            total += len(batch)
            if progress is not None:
                progress(len(batch))
        ratio_list = [checked[name] for name in names]
        group_info: dict[str, Any] | None = None
        if keys is not None:
            group_of = keys.groups()
            assignment = _grouped(
                group_of, labels, ratio_list, seed, stratified=stratify_by == "concept"
            )
            group_info = keys.describe(group_of, assignment, names)
        elif stratify_by == "concept":
            assignment = _stratified(labels, ratio_list, seed)
        else:
            assignment = _plain(total, ratio_list, seed)
        counts = np.bincount(np.frombuffer(assignment, dtype=np.uint8), minlength=len(names))
        empty = [name for j, name in enumerate(names) if not counts[j]]
        if empty and not allow_empty:
            raise EmptyResultError(_empty_message(opened.name, empty, total), params=[_ALLOW_EMPTY])
        concepts = labels.per_split(assignment, names)
        _write_splits(
            opened,
            out,
            paths,
            assignment,
            names,
            tag=tag,
            flavour=flavour or opened.reader.flavour,
            batch_size=batch_size,
            progress=progress,
        )
    return SplitReport(
        source=opened.name,
        out_dir=str(out),
        seed=seed,
        stratify_by=stratify_by,
        ratios=checked,
        files={name: str(path) for name, path in paths.items()},
        counts={name: int(counts[j]) for j, name in enumerate(names)},
        concepts=concepts,
        tagged=tag,
        group_by=str(grouping) if grouping is not None else None,
        groups=group_info,
    )


# -- pass 1: what each input is labelled with ------------------------------------------


class _Labels:
    """Each input's positive concepts, as indices in a compact CSR layout."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.flat: list[int] = []
        self.offsets: list[int] = [0]

    def add(self, record: Input) -> None:
        data = record.data
        found = {c.id for c in data.concepts if c.value > 0}
        for frame in data.frames:
            found.update(c.id for c in frame.data.concepts if c.value > 0)
        for region in iter_regions(record):
            found.update(c.id for c in region.data.concepts if c.value > 0)
        index = self.index
        for concept_id in sorted(found):
            n = index.get(concept_id)
            if n is None:
                n = index[concept_id] = len(index)
            self.flat.append(n)
        self.offsets.append(len(self.flat))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, i: int) -> list[int]:
        return self.flat[self.offsets[i] : self.offsets[i + 1]]

    def per_split(self, assignment: bytearray, names: list[str]) -> dict[str, dict[str, int]]:
        ids = list(self.index)
        table = np.zeros((len(ids), len(names)), dtype=np.int64)
        if self.flat:
            flat = np.asarray(self.flat, dtype=np.int64)
            sizes = np.diff(np.asarray(self.offsets, dtype=np.int64)).astype(np.int64)
            splits = np.repeat(np.frombuffer(assignment, dtype=np.uint8), sizes)
            np.add.at(table, (flat, splits), 1)
        return {
            concept_id: {name: int(table[n, j]) for j, name in enumerate(names)}
            for n, concept_id in enumerate(ids)
        }


class _GroupKeys:
    """Pass 1 for ``group_by``: each input's metadata value, or its embedding."""

    #: Ids of the largest group named in the report.
    SHOWN = 10

    def __init__(self, grouping: GroupBy, index: Any) -> None:
        self.grouping = grouping
        self.index = index
        self.ids: list[str] = []
        self.values: list[str | None] = []
        self.gatherer: Any = None
        self.path = grouping.key.split(".")
        if grouping.kind == "near-duplicates":
            from .index.groups import EmbeddingGatherer

            self.gatherer = EmbeddingGatherer()

    def add(self, record: Input) -> None:
        if self.gatherer is not None:
            self.gatherer.add(record)
            self.ids = self.gatherer.ids
            return
        self.ids.append(record.id)
        value = None
        if record.data.HasField("metadata"):
            found = _lookup(record.data.metadata, self.path)
            if found is not None:
                value = json.dumps(
                    json_format.MessageToDict(found), sort_keys=True, ensure_ascii=False
                )
        self.values.append(value)

    def groups(self) -> np.ndarray:
        """The group number of each input (inputs of one group share it)."""
        n = len(self.ids)
        group_of = np.arange(n, dtype=np.int64)
        self.ungrouped = 0
        if self.gatherer is not None:
            from .index.groups import duplicate_groups

            found = duplicate_groups(
                self.gatherer, threshold=self.grouping.threshold, index=self.index
            )
            for group in found:
                group_of[list(group.ordinals)] = group.ordinals[0]
            self.ungrouped = self.gatherer.skipped if self.index is None else 0
            return group_of
        first: dict[str, int] = {}
        for ordinal, value in enumerate(self.values):
            if value is None:
                self.ungrouped += 1
                continue
            group_of[ordinal] = first.setdefault(value, ordinal)
        return group_of

    def describe(
        self, group_of: np.ndarray, assignment: bytearray, names: list[str]
    ) -> dict[str, Any]:
        n = len(group_of)
        sizes = np.bincount(group_of, minlength=n) if n else np.zeros(0, dtype=np.int64)
        count = int((sizes > 0).sum())
        grouped = int(sizes[sizes > 1].sum())
        largest: dict[str, Any] | None = None
        if n:
            root = int(np.argmax(sizes))
            members = np.flatnonzero(group_of == root)
            largest = {
                "size": int(sizes[root]),
                "split": names[assignment[int(members[0])]],
                "ids": [self.ids[int(m)] for m in members[: self.SHOWN]],
            }
        return {
            "count": count,
            "grouped_inputs": grouped,
            "ungrouped_inputs": self.ungrouped,
            "largest": largest,
        }


# -- assignment -------------------------------------------------------------------------


def _quotas(ratios: list[float], n: int) -> list[int]:
    """Split sizes for ``n`` inputs: largest remainder, ties to the earlier split."""
    exact = [r * n for r in ratios]
    sizes = [math.floor(x + _EPS) for x in exact]
    left = n - sum(sizes)
    by_remainder = sorted(range(len(ratios)), key=lambda j: (-(exact[j] - sizes[j]), j))
    for j in by_remainder[: max(left, 0)]:
        sizes[j] += 1
    return sizes


def _plain(n: int, ratios: list[float], seed: int) -> bytearray:
    assignment = bytearray(n)
    if not n:
        return assignment
    order = np.random.default_rng(seed).permutation(n)
    out = np.frombuffer(assignment, dtype=np.uint8)
    start = 0
    for j, size in enumerate(_quotas(ratios, n)):
        out[order[start : start + size]] = j
        start += size
    return assignment


def _stratified(labels: _Labels, ratios: list[float], seed: int) -> bytearray:
    n = len(labels)
    k = len(ratios)
    rnd = random.Random(seed)
    order = list(range(n))
    rnd.shuffle(order)
    n_labels = len(labels.index)
    label_rank = list(range(n_labels))
    rnd.shuffle(label_rank)
    flat, offsets = labels.flat, labels.offsets
    examples: list[list[int]] = [[] for _ in range(n_labels)]
    for i in order:
        for m in flat[offsets[i] : offsets[i + 1]]:
            examples[m].append(i)
    remaining = [len(e) for e in examples]
    wants = [[r * len(examples[m]) for r in ratios] for m in range(n_labels)]
    wants_total = [r * n for r in ratios]
    assigned = [-1] * n
    splits = range(k)

    def choose(want: list[float] | None) -> int:
        if want is not None:
            best = max(want)
            cands = [j for j in splits if want[j] >= best - _EPS]
        else:
            cands = list(splits)
        if len(cands) > 1:
            best_total = max(wants_total[j] for j in cands)
            cands = [j for j in cands if wants_total[j] >= best_total - _EPS]
        return cands[0] if len(cands) == 1 else rnd.choice(cands)

    heap = [(remaining[m], label_rank[m], m) for m in range(n_labels) if remaining[m]]
    heapq.heapify(heap)
    while heap:
        count, _, label = heapq.heappop(heap)
        if count != remaining[label] or not count:
            continue  # stale entry
        for i in examples[label]:
            if assigned[i] >= 0:
                continue
            j = choose(wants[label])
            assigned[i] = j
            wants_total[j] -= 1
            for m in flat[offsets[i] : offsets[i + 1]]:
                wants[m][j] -= 1
                remaining[m] -= 1
                if m != label and remaining[m]:
                    heapq.heappush(heap, (remaining[m], label_rank[m], m))
    for i in order:
        if assigned[i] < 0:
            j = choose(None)
            assigned[i] = j
            wants_total[j] -= 1
    return bytearray(assigned)


def _grouped(
    group_of: np.ndarray, labels: _Labels, ratios: list[float], seed: int, *, stratified: bool
) -> bytearray:
    """Place whole groups (see the module docstring): largest first, or rarest concept first."""
    n = len(group_of)
    k = len(ratios)
    rnd = random.Random(seed)
    members: dict[int, list[int]] = {}
    for i, g in enumerate(group_of.tolist()):
        members.setdefault(g, []).append(i)
    groups = list(members.values())
    rnd.shuffle(groups)
    counts: list[dict[int, int]] = []
    freq = [0] * len(labels.index)
    for group in groups:
        found: dict[int, int] = {}
        for i in group:
            for m in labels.of(i):
                found[m] = found.get(m, 0) + 1
        counts.append(found)
        if stratified:
            for m, c in found.items():
                freq[m] += c
    order = list(range(len(groups)))

    def rank(g: int) -> tuple[int, int]:
        if stratified and counts[g]:
            return (min(freq[m] for m in counts[g]), -len(groups[g]))
        return (n + 1 if stratified else 0, -len(groups[g]))

    order.sort(key=rank)  # stable: the seeded shuffle breaks ties
    open_splits = [j for j in range(k) if ratios[j] > 0] or list(range(k))
    wants_total = [r * n for r in ratios]
    wants = [[r * f for r in ratios] for f in freq]
    assigned = [0] * n

    def pick(want: list[float] | None) -> int:
        """The split that wants ``want`` (a concept) most, then the most inputs; ties at random."""
        keys = {j: (want[j] if want is not None else 0.0, wants_total[j]) for j in open_splits}
        best = max(keys.values())
        cands = [
            j
            for j, key in keys.items()
            if abs(key[0] - best[0]) <= _EPS and abs(key[1] - best[1]) <= _EPS
        ]
        return cands[0] if len(cands) == 1 else rnd.choice(cands)

    for g in order:
        group, found = groups[g], counts[g]
        if stratified and found:
            rarest = min(found, key=lambda m: (freq[m], m))
            j = pick(wants[rarest])
        else:
            j = pick(None)
        for i in group:
            assigned[i] = j
        wants_total[j] -= len(group)
        for m, c in found.items():
            wants[m][j] -= c
    return bytearray(assigned)


# -- pass 2: write --------------------------------------------------------------------------


def _write_splits(
    source: Source,
    out: Path,
    paths: dict[str, Path],
    assignment: bytearray,
    names: list[str],
    *,
    tag: bool,
    flavour: Flavour,
    batch_size: int | None,
    progress: Callable[[int], None] | None,
) -> None:
    created = make_parents(out)
    if not out.exists():
        created.append(out)
    writers: list[ArchiveWriter] = []
    try:
        out.mkdir(exist_ok=True)
        for name in names:
            writers.append(
                ArchiveWriter(
                    paths[name], batch_size=batch_size or 128, flavour=flavour, split=name
                )
            )
        sinks = [BatchSink(writer, batch_size) for writer in writers]
        ordinal = 0
        for batch in iter_batches([source.reader]):
            n = len(batch)
            if ordinal + n > len(assignment):
                raise _changed(source)
            where = assignment[ordinal : ordinal + n]
            if tag:
                for k, record in enumerate(batch.inputs):
                    j = where[k]
                    tagged = Input()
                    tagged.CopyFrom(record)
                    tagged.data.metadata["split"] = names[j]
                    sinks[j].add_input(tagged)
            elif n and where.count(where[0]) == n:
                sinks[where[0]].add_batch(batch)
            else:
                run = 0
                for k in range(1, n + 1):
                    if k == n or where[k] != where[run]:
                        sinks[where[run]].add_range(batch, run, k)
                        run = k
            for sink in sinks:
                sink.end_source_batch()
            ordinal += n
            if progress is not None:
                progress(n)
        if ordinal != len(assignment):
            raise _changed(source)
        for sink in sinks:
            sink.flush()
        # Everything is written: move the archives into place together.
        for writer in writers:
            writer.close()
    except BaseException:
        for writer in writers:
            writer.abort()
        remove_created(created)
        raise


#: How messages name the parameter that accepts an empty result.
_ALLOW_EMPTY = param("allow_empty")


def _empty_message(source: str, empty: list[str], total: int) -> str:
    names = ", ".join(repr(name) for name in empty)
    subject = "split" if len(empty) == 1 else "splits"
    return (
        f"{source}: the {subject} {names} would hold no inputs ({total} input"
        f"{'' if total == 1 else 's'} in all); nothing was written. Give larger ratios, "
        f"or pass {_ALLOW_EMPTY} to write empty archives"
    )


def _changed(source: Source) -> ArchiveError:
    return ArchiveError(
        f"{source.name}: the archive changed while it was being split; run the split again"
    )
