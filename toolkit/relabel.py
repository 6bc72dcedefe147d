"""Change the labels of an archive: map, merge and drop concepts, drop regions.

``relabel_archive`` reads the source once to learn its concepts (so that a map can name
a concept by id or by name, and an unknown one is an error naming the closest known
ones), then once more to write every input, one batch at a time. Inputs whose labels
do not change are copied as wire bytes; the others are serialized again. The output is
written under a temporary name and moved into place when complete; the source is never
modified. No input is added or removed.

What happens to each label (a concept on an input, a video frame or a region), in order:

1. ``drop_negatives``: a negative label (value 0) is dropped.
2. ``mapping``: the label takes its new concept id (and name). Maps are applied once,
   not chained: ``a=b`` with ``b=c`` sends ``a`` to ``b`` and ``b`` to ``c``.
3. ``drop_concepts`` / ``keep_concepts``: decided on the id after mapping (naming a
   source concept that is mapped means its new id).
4. Two labels of one list (an input's own labels, one frame's, one region's) that now
   have the same id become one: the first keeps its place, and its value is the
   higher of the two, so a positive label wins over a negative one.

Each source label ends as exactly one of ``unchanged``, ``changed`` (kept under a new
id), ``merged`` (folded into another label of the same id) or ``dropped`` (including
labels on regions that are dropped); the report counts them per source concept.

Regions: one that carries a dropped shape (``box``, ``polygon``, ``point``, ``mask``) is
dropped; a bounding box smaller than ``min_box_area`` square pixels is dropped (this
needs the image size, ``image_info``, or the video's ``video_info`` for a frame's regions;
an input without it is an error naming the input, unless ``keep_unsized`` keeps such
boxes and counts them); a region that had concepts and has none left is dropped unless
``empty_regions="keep"``.

Example::

    rules = RelabelRules(mapping=(("car", "vehicle"), ("truck", "vehicle")),
                         drop_negatives=True, drop_regions=("point",))
    report = relabel_archive("export.zip", "relabelled.zip", rules=rules)
    print(report.concepts["car"].changed)
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._rewrite import (
    BatchSink,
    SourceBatch,
    Stream,
    check_not_a_source,
    open_destination,
    open_sources,
    output_writer,
)
from .archive import ArchiveReader, Flavour
from .batches import iter_batches
from .errors import SchemaError
from .limits import DEFAULT_LIMITS, Limits
from .messages import Data, Input, Region

__all__ = [
    "REGION_SHAPES",
    "ConceptChange",
    "RelabelReport",
    "RelabelRules",
    "merge_into",
    "parse_map_file",
    "parse_mapping",
    "read_map_file",
    "relabel_archive",
]

#: Shape names ``drop_regions`` takes -> the RegionInfo field.
REGION_SHAPES = {
    "box": "bounding_box",
    "polygon": "polygon",
    "point": "point",
    "mask": "mask",
}
#: Known concepts named in an "unknown concept" error.
_CLOSEST = 3

EmptyRegions = Literal["drop", "keep"]


# -- rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RelabelRules:
    """What ``relabel_archive`` changes (see the module docstring for the order).

    - ``mapping``: ``(OLD, NEW)`` pairs. OLD is a concept of the archive, by id or by name
      (case-insensitive); NEW is a concept id (an existing concept by id or name keeps
      its name, a new id gets NEW as its name).
    - ``drop_concepts``: concepts whose labels are dropped.
    - ``keep_concepts``: when given, labels of every other concept are dropped.
    - ``drop_regions``: shapes (``box``, ``polygon``, ``point``, ``mask``) whose regions go.
    - ``drop_negatives``: drop labels with value 0 (known to be absent).
    - ``min_box_area``: drop bounding boxes under this many square pixels.
    - ``empty_regions``: ``drop`` (default) or ``keep`` a region left with no concept.
    - ``keep_unsized``: with ``min_box_area``, keep the boxes of inputs whose size is
      unknown (counted in the report) instead of failing.

    Example::

        RelabelRules(mapping=merge_into("vehicle", ["car", "truck"]), keep_concepts=("vehicle",))
    """

    mapping: tuple[tuple[str, str], ...] = ()
    drop_concepts: tuple[str, ...] = ()
    keep_concepts: tuple[str, ...] | None = None
    drop_regions: tuple[str, ...] = ()
    drop_negatives: bool = False
    min_box_area: float | None = None
    empty_regions: EmptyRegions = "drop"
    keep_unsized: bool = False

    def __post_init__(self) -> None:
        pairs = tuple((str(old), str(new)) for old, new in self.mapping)
        object.__setattr__(self, "mapping", pairs)
        object.__setattr__(self, "drop_concepts", tuple(self.drop_concepts))
        if self.keep_concepts is not None:
            object.__setattr__(self, "keep_concepts", tuple(self.keep_concepts))
        object.__setattr__(self, "drop_regions", tuple(self.drop_regions))
        for old, new in pairs:
            if not old or not new:
                raise ValueError(f"map {old}={new}: both sides need a concept")
        unknown = [s for s in self.drop_regions if s not in REGION_SHAPES]
        if unknown:
            raise ValueError(
                f"unknown region shape {unknown[0]!r}; use one of {', '.join(REGION_SHAPES)}"
            )
        if self.min_box_area is not None and not self.min_box_area >= 0:
            raise ValueError("min_box_area must be 0 or more")
        if self.empty_regions not in ("drop", "keep"):
            raise ValueError("empty_regions must be 'drop' or 'keep'")

    @property
    def needs_concepts(self) -> bool:
        """True when concepts are named (so the archive's concepts must be read first)."""
        return bool(self.mapping or self.drop_concepts or self.keep_concepts is not None)

    def to_dict(self) -> dict[str, Any]:
        """The rules that are set, JSON-ready."""
        out: dict[str, Any] = {}
        if self.mapping:
            out["map"] = [f"{old}={new}" for old, new in self.mapping]
        if self.drop_concepts:
            out["drop_concepts"] = list(self.drop_concepts)
        if self.keep_concepts is not None:
            out["keep_concepts"] = list(self.keep_concepts)
        if self.drop_regions:
            out["drop_regions"] = list(self.drop_regions)
        if self.drop_negatives:
            out["drop_negatives"] = True
        if self.min_box_area is not None:
            out["min_box_area"] = self.min_box_area
            out["keep_unsized"] = self.keep_unsized
        out["empty_regions"] = self.empty_regions
        return out


def merge_into(new: str, concepts: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Map pairs that make several concepts one: ``merge_into("vehicle", ["car", "bus"])``.

    Example::

        RelabelRules(mapping=merge_into("vehicle", ["car", "truck"]))
    """
    olds = [c for c in concepts if c]
    if not olds:
        raise ValueError(f"merge into {new!r}: give the concepts to merge")
    return tuple((old, new) for old in olds)


def parse_mapping(text: str) -> tuple[str, str]:
    """``"OLD=NEW"`` -> ``(OLD, NEW)``, split at the last ``=``, spaces around removed.

    Example::

        parse_mapping("Car=vehicle")   # ('Car', 'vehicle')
    """
    old, sep, new = text.rpartition("=")
    old, new = old.strip(), new.strip()
    if not sep or not old or not new:
        raise ValueError(f"{text!r} is not OLD=NEW (a concept id or name, then the new id)")
    return old, new


def parse_map_file(text: str, *, name: str = "map file") -> list[tuple[str, str]]:
    """Map pairs from a file's text: a JSON object ``{"old": "new"}`` or list of pairs, or
    CSV with two columns OLD,NEW (a first row ``old,new`` / ``from,to`` is a header;
    blank lines and ``#`` comments are skipped).

    Example::

        parse_map_file('{"car": "vehicle", "truck": "vehicle"}')
        parse_map_file("old,new\\ncar,vehicle\\n")
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{name}: not valid JSON ({exc})") from None
        if isinstance(value, dict):
            items = list(value.items())
        else:
            items = [tuple(item) if isinstance(item, list) else item for item in value]
        pairs = []
        for item in items:
            if (
                not isinstance(item, tuple)
                or len(item) != 2
                or not all(isinstance(v, str) and v.strip() for v in item)
            ):
                raise ValueError(
                    f"{name}: {item!r} is not a pair of concept strings; write "
                    '{"old": "new", ...} or [["old", "new"], ...]'
                )
            pairs.append((item[0].strip(), item[1].strip()))
        return pairs
    pairs = []
    rows = csv.reader(io.StringIO(text))
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise ValueError(f"{name}: line {number}: expected two columns OLD,NEW, got {row!r}")
        if not pairs and (cells[0].lower(), cells[1].lower()) in _HEADERS:
            continue
        pairs.append((cells[0], cells[1]))
    return pairs


_HEADERS = {("old", "new"), ("from", "to"), ("source", "target"), ("concept", "new")}


# -- report -----------------------------------------------------------------------------


@dataclass
class ConceptChange:
    """What happened to the labels of one source concept."""

    #: Labels of this concept read (inputs, frames and regions).
    labels: int = 0
    #: Kept as they were.
    unchanged: int = 0
    #: Kept under a new id (``to``).
    changed: int = 0
    #: Folded into another label of the same (new) id on the same input, frame or region.
    merged: int = 0
    #: Dropped (by a rule, or with their region).
    dropped: int = 0
    #: The id its labels carry now (the same id when not mapped).
    to: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RelabelReport:
    """What ``relabel_archive`` did."""

    source: str
    output: str
    rules: RelabelRules
    inputs_read: int
    inputs_written: int
    #: Inputs whose labels or regions changed.
    inputs_changed: int
    #: Source concept id -> what happened to its labels.
    concepts: dict[str, ConceptChange]
    #: Why regions were dropped (``shape:box``, ``small_box``, ``empty``) -> count.
    regions_dropped: dict[str, int]
    #: Boxes kept because their input's size is unknown (``keep_unsized``).
    boxes_unsized: int = 0
    #: Concept id -> labels after (kept ones, by their new id).
    labels_after: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "source": self.source,
            "output": self.output,
            "rules": self.rules.to_dict(),
            "inputs_read": self.inputs_read,
            "inputs_written": self.inputs_written,
            "inputs_changed": self.inputs_changed,
            "concepts": {c: v.to_dict() for c, v in sorted(self.concepts.items())},
            "labels_after": dict(sorted(self.labels_after.items())),
            "regions_dropped": dict(sorted(self.regions_dropped.items())),
            "boxes_unsized": self.boxes_unsized,
        }


# -- resolving concepts -------------------------------------------------------------------


class _Concepts:
    """The concepts an archive holds: id -> name, with lookups by id or name."""

    def __init__(self, names: Mapping[str, str], where: str) -> None:
        self.names = dict(names)
        self.where = where
        self.by_name: dict[str, list[str]] = {}
        self.by_lower_id: dict[str, list[str]] = {}
        for concept_id, name in self.names.items():
            if name:
                self.by_name.setdefault(name.casefold(), []).append(concept_id)
            self.by_lower_id.setdefault(concept_id.casefold(), []).append(concept_id)

    def find(self, token: str) -> str | None:
        """The id ``token`` names (an id, else a name or an id in another case), or None."""
        if token in self.names:
            return token
        for table in (self.by_name, self.by_lower_id):
            found = table.get(token.casefold())
            if found:
                if len(found) > 1:
                    raise SchemaError(
                        f"{self.where}: {token!r} names several concepts "
                        f"({', '.join(repr(i) for i in sorted(found))}); give the id"
                    )
                return found[0]
        return None

    def resolve(self, token: str, what: str, extra: Iterable[str] = ()) -> str:
        """The id ``token`` names, else SchemaError naming the closest known concepts."""
        found = self.find(token)
        if found is not None:
            return found
        extra = list(extra)
        if token in extra:
            return token
        raise SchemaError(self.unknown_message(token, what, extra))

    def unknown_message(self, token: str, what: str, extra: Sequence[str] = ()) -> str:
        choices: dict[str, str] = {}
        for concept_id, name in self.names.items():
            choices[concept_id.casefold()] = concept_id
            if name:
                choices.setdefault(name.casefold(), concept_id)
        for concept_id in extra:
            choices.setdefault(concept_id.casefold(), concept_id)
        close = difflib.get_close_matches(token.casefold(), list(choices), n=_CLOSEST, cutoff=0.5)
        shown = []
        for key in close:
            concept_id = choices[key]
            name = self.names.get(concept_id, "")
            label = repr(concept_id) + (f" ({name})" if name and name != concept_id else "")
            if label not in shown:
                shown.append(label)
        hint = f"; closest: {', '.join(shown)}" if shown else ""
        known = len(self.names)
        return (
            f"{self.where}: {what} {token!r} is not a concept of the archive (by id or name)"
            f"{hint}. The archive has {known} concepts; list them with "
            "'clarifai-archive info ARCHIVE'"
        )


def _read_concepts(reader: ArchiveReader) -> dict[str, str]:
    names: dict[str, str] = {}

    def add(data: Data) -> None:
        for concept in data.concepts:
            if concept.id not in names or (not names[concept.id] and concept.name):
                names[concept.id] = concept.name

    for _entry, batch in reader.iter_batches():
        for record in batch.inputs:
            data = record.data
            add(data)
            for region in data.regions:
                add(region.data)
            for frame in data.frames:
                add(frame.data)
                for region in frame.data.regions:
                    add(region.data)
    return names


@dataclass(frozen=True)
class _Plan:
    """The rules with every concept resolved to an id."""

    #: Source id -> (new id, new name).
    mapping: dict[str, tuple[str, str]]
    drop: frozenset[str]
    keep: frozenset[str] | None
    shapes: tuple[str, ...]
    drop_negatives: bool
    min_box_area: float | None
    drop_empty: bool
    keep_unsized: bool


def _plan(rules: RelabelRules, concepts: _Concepts) -> _Plan:
    mapping: dict[str, tuple[str, str]] = {}
    for old, new in rules.mapping:
        source = concepts.resolve(old, "map")
        target = concepts.find(new)
        if target is None:
            target_id, target_name = new, new
        else:
            target_id, target_name = target, concepts.names.get(target, "") or target
        if source in mapping and mapping[source][0] != target_id:
            raise SchemaError(
                f"{concepts.where}: concept {source!r} is mapped twice "
                f"(to {mapping[source][0]!r} and to {target_id!r}); map it once"
            )
        mapping[source] = (target_id, target_name)
    targets = sorted({new_id for new_id, _ in mapping.values()})

    def final(token: str, what: str) -> str:
        concept_id = concepts.resolve(token, what, extra=targets)
        return mapping[concept_id][0] if concept_id in mapping else concept_id

    drop = frozenset(final(t, "drop-concept") for t in rules.drop_concepts)
    keep = (
        frozenset(final(t, "keep-concepts") for t in rules.keep_concepts)
        if rules.keep_concepts is not None
        else None
    )
    return _Plan(
        mapping=mapping,
        drop=drop,
        keep=keep,
        shapes=tuple(REGION_SHAPES[s] for s in rules.drop_regions),
        drop_negatives=rules.drop_negatives,
        min_box_area=rules.min_box_area,
        drop_empty=rules.empty_regions == "drop",
        keep_unsized=rules.keep_unsized,
    )


# -- changing one input ---------------------------------------------------------------------


class _Relabeller:
    """Applies a plan to inputs in place, counting what it does."""

    def __init__(self, plan: _Plan, where: str) -> None:
        self.plan = plan
        self.where = where
        self.concepts: dict[str, ConceptChange] = {}
        self.regions_dropped: dict[str, int] = {}
        self.unsized = 0

    def _entry(self, concept_id: str) -> ConceptChange:
        entry = self.concepts.get(concept_id)
        if entry is None:
            target = self.plan.mapping.get(concept_id)
            entry = self.concepts[concept_id] = ConceptChange(
                to=target[0] if target else concept_id
            )
        return entry

    def _concepts(self, data: Data) -> bool:
        """Relabel one list of concepts; True when it changed."""
        concepts = data.concepts
        if not len(concepts):
            return False
        plan = self.plan
        changed = False
        seen: dict[str, int] = {}
        remove: list[int] = []
        for position, concept in enumerate(concepts):
            entry = self._entry(concept.id)
            entry.labels += 1
            if plan.drop_negatives and not concept.value > 0:
                entry.dropped += 1
                remove.append(position)
                continue
            target = plan.mapping.get(concept.id)
            new_id = target[0] if target else concept.id
            if new_id in plan.drop or (plan.keep is not None and new_id not in plan.keep):
                entry.dropped += 1
                remove.append(position)
                continue
            first = seen.get(new_id)
            if first is not None:
                entry.merged += 1
                remove.append(position)
                kept = concepts[first]
                if concept.value > kept.value:
                    kept.value = concept.value
                continue
            seen[new_id] = position
            if target is not None and new_id != concept.id:
                entry.changed += 1
                concept.id = new_id
                concept.name = target[1]
                changed = True
            else:
                entry.unchanged += 1
        for position in reversed(remove):
            del concepts[position]
        return changed or bool(remove)

    def _drop_labels(self, data: Data) -> None:
        """Count the labels of a region that is dropped."""
        for concept in data.concepts:
            entry = self._entry(concept.id)
            entry.labels += 1
            entry.dropped += 1

    def _count(self, reason: str) -> None:
        self.regions_dropped[reason] = self.regions_dropped.get(reason, 0) + 1

    def _regions(self, record: Input, owner: Data, size: tuple[int, int] | None) -> bool:
        regions = owner.regions
        if not len(regions):
            return False
        plan = self.plan
        remove: list[int] = []
        changed = False
        for position, region in enumerate(regions):
            reason = self._region_reason(record, region, size)
            if reason is not None:
                self._drop_labels(region.data)
                self._count(reason)
                remove.append(position)
                continue
            had = len(region.data.concepts)
            if self._concepts(region.data):
                changed = True
            if had and not len(region.data.concepts) and plan.drop_empty:
                self._count("empty")
                remove.append(position)
        for position in reversed(remove):
            del regions[position]
        return changed or bool(remove)

    def _region_reason(
        self, record: Input, region: Region, size: tuple[int, int] | None
    ) -> str | None:
        info = region.region_info
        plan = self.plan
        for shape in plan.shapes:
            if info.HasField(shape):
                return "shape:" + next(k for k, v in REGION_SHAPES.items() if v == shape)
        if plan.min_box_area is not None and info.HasField("bounding_box"):
            if size is None:
                if not plan.keep_unsized:
                    raise SchemaError(
                        f"{self.where}: input {record.id!r} has boxes but no image size "
                        "(image_info / video_info), so min_box_area cannot measure them; "
                        "pass keep_unsized=True to keep such boxes",
                        params=["min_box_area", "keep_unsized=True"],
                    )
                self.unsized += 1
                return None
            box = info.bounding_box
            width, height = size
            area = (
                max(0.0, box.right_col - box.left_col)
                * width
                * max(0.0, box.bottom_row - box.top_row)
                * height
            )
            if area < plan.min_box_area:
                return "small_box"
        return None

    def apply(self, record: Input) -> bool:
        """Relabel one input in place; True when it changed."""
        data = record.data
        changed = self._concepts(data)
        image_size = _size(data.image.image_info) if data.HasField("image") else None
        if self._regions(record, data, image_size):
            changed = True
        if len(data.frames):
            video_size = _size(data.video.video_info) if data.HasField("video") else None
            for frame in data.frames:
                if self._concepts(frame.data):
                    changed = True
                if self._regions(record, frame.data, video_size or image_size):
                    changed = True
        return changed


def _size(info: Any) -> tuple[int, int] | None:
    if info.width > 0 and info.height > 0:
        return int(info.width), int(info.height)
    return None


# -- the operation -----------------------------------------------------------------------------


def relabel_archive(
    source: str | os.PathLike[str] | Stream,
    output: str | os.PathLike[str] | Stream,
    *,
    rules: RelabelRules,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> RelabelReport:
    """Write ``source`` with its labels changed by ``rules`` (see the module docstring).

    Every input is written, in the archive's order; the output has the source's flavour
    unless ``flavour`` is given, and keeps its batch folder. A concept named in ``rules``
    that the archive does not hold is a :class:`~toolkit.errors.SchemaError` naming the
    closest known ones, raised before anything is written. ``progress`` is called with
    counts of inputs read.

    Example::

        report = relabel_archive("export.zip", "out.zip",
                                 rules=RelabelRules(mapping=(("Car", "vehicle"),)))
        report.concepts["car"].changed
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if flavour not in (None, "protobuf", "json"):
        raise ValueError(f"unknown flavour {flavour!r}; use 'protobuf' or 'json'")
    from .subset import _folder, _source_name

    name = _source_name(source)
    with ExitStack() as stack:
        (opened,) = open_sources([source], limits=limits, stack=stack)
        known = _read_concepts(opened.reader) if rules.needs_concepts else {}
        plan = _plan(rules, _Concepts(known, name))
        destination = open_destination(output, stack)
        if destination.stream is None:
            check_not_a_source(destination.path, [opened])
        relabeller = _Relabeller(plan, name)
        read = changed_inputs = 0
        writer = output_writer(
            destination.path,
            batch_size=batch_size,
            flavour=flavour or opened.reader.flavour,
            split=_folder(opened),
        )
        try:
            sink = BatchSink(writer, batch_size)
            for batch in iter_batches([opened.reader]):
                changed_inputs += _write_batch(sink, batch, relabeller)
                sink.end_source_batch()
                read += len(batch)
                if progress is not None:
                    progress(len(batch))
            sink.flush()
            writer.close()
        except BaseException:
            writer.abort()
            raise
        destination.finish()
    after: dict[str, int] = {}
    for entry in relabeller.concepts.values():
        kept = entry.unchanged + entry.changed
        if kept:
            after[entry.to] = after.get(entry.to, 0) + kept
    return RelabelReport(
        source=name,
        output=_source_name(output, "<stream>"),
        rules=rules,
        inputs_read=read,
        inputs_written=sink.added,
        inputs_changed=changed_inputs,
        concepts=relabeller.concepts,
        regions_dropped=relabeller.regions_dropped,
        boxes_unsized=relabeller.unsized,
        labels_after=after,
    )


def _write_batch(sink: BatchSink, batch: SourceBatch, relabeller: _Relabeller) -> int:
    """Relabel one source batch into ``sink``: unchanged runs as bytes. Returns inputs changed."""
    flags = [relabeller.apply(record) for record in batch.inputs]
    if not any(flags):
        sink.add_batch(batch)
        return 0
    run = -1
    for k, changed in enumerate(flags):
        if changed:
            if run >= 0:
                sink.add_range(batch, run, k)
                run = -1
            sink.add_input(batch.inputs[k])
        elif run < 0:
            run = k
    if run >= 0:
        sink.add_range(batch, run, len(flags))
    return sum(flags)


def read_map_file(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Map pairs from a CSV or JSON file (see :func:`parse_map_file`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{file}: cannot read the map file ({exc})") from None
    try:
        return parse_map_file(text, name=str(file))
    except ValueError as exc:
        raise SchemaError(str(exc)) from None
