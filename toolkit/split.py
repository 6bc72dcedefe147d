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

Example::

    report = split_archive("export.zip", "splits", ratios={"train": 0.8, "val": 0.2},
                           seed=7, stratify_by="concept", tag=True)
    print(report.counts)   # {'train': 24, 'val': 7}
"""

from __future__ import annotations

import heapq
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

from ._atomic import make_parents, remove_created
from ._rewrite import (
    BatchSink,
    Source,
    Stream,
    check_not_a_source,
    iter_source_batches,
    open_sources,
)
from .archive import ArchiveWriter, Flavour
from .errors import ArchiveError, OutputError
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input
from .records import iter_regions

__all__ = ["RATIO_TOLERANCE", "SplitReport", "check_ratios", "parse_ratios", "split_archive"]

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "source": self.source,
            "out_dir": self.out_dir,
            "seed": self.seed,
            "stratify_by": self.stratify_by,
            "tagged": self.tagged,
            "ratios": dict(self.ratios),
            "files": dict(self.files),
            "counts": dict(self.counts),
            "concepts": {c: dict(v) for c, v in sorted(self.concepts.items())},
        }


def split_archive(
    source: str | os.PathLike[str] | Stream,
    out_dir: str | os.PathLike[str],
    *,
    ratios: Mapping[str, float],
    seed: int = 0,
    stratify_by: Literal["concept"] | None = None,
    tag: bool = False,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> SplitReport:
    """Write one archive per split, ``<out_dir>/<name>.zip``, as the module docstring says.

    ``ratios`` must add up to 1 (ValueError otherwise). ``tag=True`` also records the
    split name in each input's metadata under ``split`` (replacing any value there).
    ``out_dir`` is created if needed; existing ``<name>.zip`` files are replaced, other
    files are left alone. All archives are moved into place together at the end; on an
    error none is. ``progress`` is called with counts of inputs read (each is read
    twice: to assign it, then to copy it).

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
        total = 0
        for batch in iter_source_batches(opened):
            for record in batch.inputs:
                labels.add(record)
            total += len(batch)
            if progress is not None:
                progress(len(batch))
        ratio_list = [checked[name] for name in names]
        if stratify_by == "concept":
            assignment = _stratified(labels, ratio_list, seed)
        else:
            assignment = _plain(total, ratio_list, seed)
        counts = np.bincount(np.frombuffer(assignment, dtype=np.uint8), minlength=len(names))
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
        for batch in iter_source_batches(source):
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


def _changed(source: Source) -> ArchiveError:
    return ArchiveError(
        f"{source.name}: the archive changed while it was being split; run the split again"
    )
