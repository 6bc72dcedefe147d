"""Count what an archive holds, as Clarifai's dataset version metrics.

Example::

    with ArchiveReader(path) as reader:
        metrics = compute_metrics(reader.iter_inputs())
    print(metrics.inputs_count, metrics.concepts["cat"].inputs)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ._native import WireMetrics, batch_metrics
from .archive import ArchiveReader
from .batches import Batch, iter_batches
from .errors import LimitError, MediaError
from .messages import Concept, DatasetVersionMetrics, Image, Input, Region
from .records import INPUT_TYPES
from .safety import image_size

__all__ = [
    "ConceptCount",
    "Metrics",
    "MetricsCounter",
    "archive_metrics",
    "compute_metrics",
    "count_batch",
]

#: Fields that map one-to-one onto ``clarifai.api.DatasetVersionMetrics``.
PROTO_FIELDS = (
    "inputs_count",
    "unlabeled_inputs_count",
    "inputs_with_metadata_count",
    "regions_count",
    "bounding_boxes_count",
    "polygons_count",
    "points_count",
    "masks_count",
    "frames_count",
    "embeddings_count",
    "positive_input_tags_count",
    "positive_region_tags_count",
)


@dataclass
class ConceptCount:
    """How often one concept is a positive label."""

    name: str = ""
    #: Inputs (or their video frames) labelled with it.
    inputs: int = 0
    #: Regions labelled with it.
    regions: int = 0
    #: Negative labels (value 0) on inputs and regions.
    negatives: int = 0


@dataclass
class Metrics:
    """What an archive holds. Counts follow ``DatasetVersionMetrics``; regions include frames'."""

    inputs_count: int = 0
    unlabeled_inputs_count: int = 0
    inputs_with_metadata_count: int = 0
    regions_count: int = 0
    bounding_boxes_count: int = 0
    polygons_count: int = 0
    points_count: int = 0
    masks_count: int = 0
    frames_count: int = 0
    embeddings_count: int = 0
    positive_input_tags_count: int = 0
    positive_region_tags_count: int = 0
    concepts: dict[str, ConceptCount] = field(default_factory=dict)
    #: Inputs per type: image, video, text, audio, unknown.
    input_types: dict[str, int] = field(default_factory=dict)
    #: Embeddings per dimension.
    embedding_dimensions: dict[int, int] = field(default_factory=dict)
    #: ``[min, max]`` of image widths and heights, None when no image size is known.
    image_width_range: list[int] | None = None
    image_height_range: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (concept table sorted by id)."""
        out = asdict(self)
        out["concepts"] = {k: asdict(self.concepts[k]) for k in sorted(self.concepts)}
        out["embedding_dimensions"] = {
            str(k): v for k, v in sorted(self.embedding_dimensions.items())
        }
        return out

    def to_proto(self) -> DatasetVersionMetrics:
        """The counts as ``clarifai.api.DatasetVersionMetrics``."""
        message = DatasetVersionMetrics()
        for name in PROTO_FIELDS:
            getattr(message, name).value = getattr(self, name)
        return message


#: The fields of ``Data`` that make the input's type, in the order they win.
_TYPE_RANK: dict[str, int] = {name: rank for rank, name in enumerate(INPUT_TYPES)}
#: The input types in the order ``batch_metrics`` counts them.
_TYPE_NAMES = (*INPUT_TYPES, "unknown")


class MetricsCounter:
    """Accumulate :class:`Metrics` one input at a time (for use inside another loop)."""

    def __init__(self, *, inspect_media: bool = True) -> None:
        self.metrics = Metrics()
        self._types: Counter[str] = Counter()
        self._dims: Counter[int] = Counter()
        self._inspect_media = inspect_media
        self._wmin = self._hmin = 1 << 62
        self._wmax = self._hmax = -1
        #: A batch the C reader counted, added after the counts above when asked for
        #: (:meth:`of_wire`): a worker process sends it back as it is, compact.
        self._wire: WireMetrics | None = None

    @classmethod
    def of_wire(cls, found: WireMetrics) -> MetricsCounter:
        """A counter of one batch the C reader counted (``toolkit._native.batch_metrics``),
        its images without a size in ``image_info`` measured here."""
        counter = cls()
        counts, types, dims, concepts, size, images = found
        for data in images:
            width, height = _image_size(data)
            if width > 0 and height > 0:
                lo_w, hi_w, lo_h, hi_h = (
                    size if size is not None else (width, width, height, height)
                )
                size = (min(lo_w, width), max(hi_w, width), min(lo_h, height), max(hi_h, height))
        counter._wire = (counts, types, dims, concepts, size, [])
        return counter

    def __reduce_ex__(self, protocol: Any) -> str | tuple[Any, ...]:
        # A counter of one batch counted by the C reader travels from a worker process as
        # the C reader's tuple alone.
        if self._wire is not None and not self.metrics.inputs_count and self._inspect_media:
            return (_wire_counter, (self._wire,))
        return super().__reduce_ex__(protocol)

    def _fold(self) -> None:
        if self._wire is not None:
            found, self._wire = self._wire, None
            self.add_wire_metrics(found)

    def add(self, record: Input) -> None:
        """Count one input (a hot path: one pass over the fields that are set, as
        ``ListFields`` gives them, instead of one look-up per field)."""
        if self._wire is not None:
            self._fold()
        m = self.metrics
        m.inputs_count += 1
        kind = 4  # unknown
        image = None
        labelled = False
        for descriptor, value in record.data.ListFields():
            name = descriptor.name
            rank = _TYPE_RANK.get(name)
            if rank is not None:
                if rank < kind:
                    kind = rank
                    if rank == 0:
                        image = value
            elif name == "embeddings":
                dims = self._dims
                m.embeddings_count += len(value)
                for embedding in value:
                    dims[len(embedding.vector) or embedding.num_dimensions] += 1
            elif name == "concepts":
                labelled = True
                self._count_concepts(value)
            elif name == "regions":
                labelled = True
                self._count_regions(value)
            elif name == "metadata":
                if len(value.fields):
                    m.inputs_with_metadata_count += 1
            elif name == "frames":
                m.frames_count += len(value)
                for frame in value:
                    if frame.data.concepts:
                        labelled = True
                        self._count_concepts(frame.data.concepts)
                    if frame.data.regions:
                        labelled = True
                        self._count_regions(frame.data.regions)
        self._types[INPUT_TYPES[kind] if kind < 4 else "unknown"] += 1
        if not labelled:
            m.unlabeled_inputs_count += 1
        if image is not None:
            self._add_image_size(image)

    def _count_concepts(self, concepts: Iterable[Concept]) -> None:
        m = self.metrics
        for concept in concepts:
            entry = self._concept(concept.id, concept.name)
            if concept.value > 0:
                entry.inputs += 1
                m.positive_input_tags_count += 1
            else:
                entry.negatives += 1

    def _count_regions(self, regions: Iterable[Region]) -> None:
        m = self.metrics
        for region in regions:
            m.regions_count += 1
            info = region.region_info
            if info.HasField("bounding_box"):
                m.bounding_boxes_count += 1
            if info.HasField("polygon"):
                m.polygons_count += 1
            if info.HasField("point"):
                m.points_count += 1
            if info.HasField("mask"):
                m.masks_count += 1
            for concept in region.data.concepts:
                entry = self._concept(concept.id, concept.name)
                if concept.value > 0:
                    entry.regions += 1
                    m.positive_region_tags_count += 1
                else:
                    entry.negatives += 1

    def _concept(self, concept_id: str, name: str) -> ConceptCount:
        entry = self.metrics.concepts.get(concept_id)
        if entry is None:
            entry = self.metrics.concepts[concept_id] = ConceptCount(name=name)
        elif name and not entry.name:
            entry.name = name
        return entry

    def _add_image_size(self, image: Image) -> None:
        width, height = image.image_info.width, image.image_info.height
        if (width <= 0 or height <= 0) and self._inspect_media and image.base64:
            width, height = _image_size(bytes(image.base64))
        if width > 0 and height > 0:
            self._add_size(width, width, height, height)

    def _add_size(self, wmin: int, wmax: int, hmin: int, hmax: int) -> None:
        self._wmin, self._wmax = min(self._wmin, wmin), max(self._wmax, wmax)
        self._hmin, self._hmax = min(self._hmin, hmin), max(self._hmax, hmax)

    def add_wire_metrics(self, found: WireMetrics) -> None:
        """Add what the C reader counted of one batch (``toolkit._native.batch_metrics``):
        the same as :meth:`add` on each of its inputs."""
        self._fold()
        counts, types, dims, concepts, size, images = found
        fields = vars(self.metrics)  # a dataclass's fields: one dict look-up each
        for name, value in zip(PROTO_FIELDS, counts, strict=True):
            if value:
                fields[name] += value
        for name, value in zip(_TYPE_NAMES, types, strict=True):
            if value:
                self._types[name] += value
        if dims:
            self._dims.update(dims)
        known = self.metrics.concepts
        for concept_id, (name, inputs, regions, negatives) in concepts.items():
            entry = known.get(concept_id)
            if entry is None:
                known[concept_id] = ConceptCount(name, inputs, regions, negatives)
                continue
            if name and not entry.name:
                entry.name = name
            entry.inputs += inputs
            entry.regions += regions
            entry.negatives += negatives
        if size is not None:
            self._add_size(*size)
        if self._inspect_media:
            for data in images:
                width, height = _image_size(data)
                if width > 0 and height > 0:
                    self._add_size(width, width, height, height)

    def merge(self, other: MetricsCounter) -> None:
        """Add what ``other`` counted (inputs after this counter's, as for :meth:`add`)."""
        self._fold()
        m, o = self.metrics, other.metrics
        if not o.inputs_count:  # nothing counted one input at a time: every count is 0
            if other._wire is not None:
                self.add_wire_metrics(other._wire)
            return
        for name in PROTO_FIELDS:
            setattr(m, name, getattr(m, name) + getattr(o, name))
        for concept_id, count in o.concepts.items():
            entry = m.concepts.get(concept_id)
            if entry is None:
                m.concepts[concept_id] = ConceptCount(
                    count.name, count.inputs, count.regions, count.negatives
                )
                continue
            if count.name and not entry.name:
                entry.name = count.name
            entry.inputs += count.inputs
            entry.regions += count.regions
            entry.negatives += count.negatives
        self._types.update(other._types)
        self._dims.update(other._dims)
        if other._wmax >= 0:
            self._wmin, self._wmax = min(self._wmin, other._wmin), max(self._wmax, other._wmax)
            self._hmin, self._hmax = min(self._hmin, other._hmin), max(self._hmax, other._hmax)
        if other._wire is not None:
            self.add_wire_metrics(other._wire)

    def result(self) -> Metrics:
        """The metrics counted so far."""
        self._fold()
        m = self.metrics
        m.input_types = dict(sorted(self._types.items()))
        m.embedding_dimensions = dict(sorted(self._dims.items()))
        if self._wmax >= 0:
            m.image_width_range = [self._wmin, self._wmax]
            m.image_height_range = [self._hmin, self._hmax]
        return m


def _wire_counter(found: WireMetrics) -> MetricsCounter:
    """A counter of one batch (pickled by :meth:`MetricsCounter.__reduce__`)."""
    counter = MetricsCounter()
    counter._wire = found
    return counter


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from an image header, without decoding pixels; (0, 0) if unreadable
    or over the default ``--max-image-pixels``."""
    try:
        width, height = image_size(data)
    except (LimitError, MediaError):
        return 0, 0
    return int(width), int(height)


def count_batch(batch: Batch) -> MetricsCounter:
    """Batch work (see :func:`toolkit.batches.iter_batches`): the batch's inputs counted,
    from its wire bytes by the C reader when the batch was read ``lazy`` (or ``scan``)
    and the C reader takes it, else from the parsed inputs (the same counts)."""
    data = batch.unparsed
    found = batch_metrics(data) if data is not None else None
    if found is not None:
        batch.count = found[0][0]
        return MetricsCounter.of_wire(found)
    counter = MetricsCounter()
    add = counter.add
    for record in batch.inputs:
        add(record)
    return counter


def archive_metrics(
    reader: ArchiveReader,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Metrics:
    """Count what one archive holds, its batches counted in ``workers`` processes
    (:func:`toolkit.batches.iter_batches`); ``progress(1)`` after each batch entry.

    Example::

        with ArchiveReader(path) as reader:
            metrics = archive_metrics(reader, workers=4)
    """
    counter = MetricsCounter()
    batches = iter_batches([reader], work=count_batch, workers=workers, ids=False, lazy=True)
    for batch in batches:
        counter.merge(batch.result)
        if progress is not None:
            progress(1)
    return counter.result()


def compute_metrics(inputs: Iterable[Input], *, inspect_media: bool = True) -> Metrics:
    """Count the inputs. ``inspect_media`` reads image headers when ``image_info`` is missing."""
    counter = MetricsCounter(inspect_media=inspect_media)
    for record in inputs:
        counter.add(record)
    return counter.result()
