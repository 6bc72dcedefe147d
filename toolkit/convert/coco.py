"""``--to coco``: a folder with COCO instances (``annotations.json``) and ``images/``.

Layout and rules (also in the README):

- Files: ``annotations.json`` (instances: boxes, polygons, masks) and, when some region
  has points, ``person_keypoints.json`` (COCO keeps keypoints in their own file: the same
  images, the keypoint annotations, the categories that have keypoints). Inputs tagged
  by ``split --tag`` (metadata ``split``) go to ``instances_<split>.json`` and
  ``person_keypoints_<split>.json`` instead; untagged inputs stay in ``annotations.json``.
  Ids (images, annotations, categories) are unique across the files of one folder.

- ``images``: one per image input, ids from 1 in archive order. ``file_name`` is the
  media file's name inside ``images/`` (the name it would have with ``--media none``).
  ``width``/``height`` come from ``image_info``, else from the media bytes. Extra fields:
  ``clarifai_input_id``, ``clarifai_concepts`` (the input's positive concepts; each with
  its ``category_id`` when ``image_labels``) and ``clarifai_metadata``.
- ``annotations``: one per (region, concept with value > 0), ids from 1. Box:
  ``bbox = [left*W, top*H, (right-left)*W, (bottom-top)*H]``, ``area = w*h``,
  ``segmentation`` the box's 4 corners ``[[x, y, x2, y, x2, y2, x, y2]]`` (so segm
  evaluation works on boxes too). Polygon (3 points or more): ``segmentation = [[x1, y1, ...]]``
  with ``x = col*W``, ``y = row*H``, ``bbox`` its extent, ``area`` its shoelace area.
  Mask: compressed RLE of the mask PNG (``iscrowd`` 0: a Clarifai mask is one object),
  ``area`` its pixel count. A region with several shapes gives one annotation: the box's
  ``bbox``, the polygon's (else the mask's) ``segmentation`` and area. Points: an
  annotation of the keypoints file with COCO ``keypoints`` ``[x, y, v]`` (v 2 visible,
  1 not visible, 0 not present), ``num_keypoints`` and the region's other fields
  (``bbox = [x, y, 0, 0]`` for points alone), padded with unlabelled ``0, 0, 0`` to its
  category's number of keypoints; a region with points and another shape
  also has its instances annotation, without keypoints. Each annotation keeps
  ``clarifai_region_id``.
- ``categories``: every concept that is a positive label of a region (and, with
  ``image_labels``, of an input), ids from 1 in the order they first appear in the
  archive, the same list in every instances file; ``name`` is the
  concept's name (its id when it has none; a name shared by two concepts gets
  `` (<id>)`` added); ``clarifai_concept_id`` keeps the id.
- Non-image inputs are skipped and counted; with ``video_frames`` each video frame that
  carries regions becomes an image (``frames/<video>/<position>.jpg``; the frames are
  not extracted, ``clarifai_video_file`` names the video).

Memory holds the category table and a few ids; images and annotations are spooled to
temporary files (one set per split) and the JSON files are assembled at the end, each in
one piece, and moved into place last.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import math
import os
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlsplit

import numpy as np
import orjson
from google.protobuf.message import DecodeError

from .. import __version__
from .._atomic import atomic_dir
from .._native import SPEEDUPS
from ..errors import (
    ArchiveError,
    LimitError,
    MediaError,
    OutputError,
    SchemaError,
    params_of,
    quote_path,
)
from ..jsonmap import _struct, current_nulls
from ..media import FileNamer, MediaReport, MediaSink, normalise_extension, sniff_extension
from ..messages import Input, Region
from ..records import input_type
from ..safety import image_size, open_image
from ._base import BatchWork, ConvertJob, OutputKind, SourceBatch
from ._counts import ConvertCounts
from ._options import media_sink_extras
from ._training import split_of

__all__ = ["CocoConverter", "rle_encode"]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
#: How the spooled images and annotations are written (the C reader writes the same).
_dumps = functools.partial(orjson.dumps, option=_NUMPY)
#: Most entries kept by the per-run caches of concept entries and category ids.
_CACHE_SIZE = 4096
_SPOOL = ".coco-spool"
_ANNOTATIONS = "annotations.json"
_KEYPOINTS = "person_keypoints.json"
#: What a previous ``--to coco`` run leaves in its folder (and :data:`SPLIT_FILE`).
OUTPUT_NAMES = frozenset({_ANNOTATIONS, _KEYPOINTS, "images", "videos"})
#: The per-split files of a previous run.
SPLIT_FILE = re.compile(r"^(instances|person_keypoints)_[A-Za-z0-9_][A-Za-z0-9._-]*\.json\Z")
# Clarifai Point.Visibility -> COCO keypoint visibility.
_VISIBILITY = {0: 2, 1: 2, 2: 1, 3: 0}
_DEFAULT_EXT = {"image": "jpg", "video": "mp4"}


class _Aborted(Exception):
    """Handed to the output folder's context manager to make it clean up."""


class _Category:
    __slots__ = ("concept_id", "id", "keypoints", "name")

    def __init__(self, cat_id: int, concept_id: str, name: str) -> None:
        self.id = cat_id
        self.concept_id = concept_id
        self.name = name
        self.keypoints = 0


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a 2-d mask (non-zero = object), as pycocotools writes it.

    Example::

        rle_encode(np.array([[0, 1], [1, 1]]))  # {"size": [2, 2], "counts": "11..."}
    """
    height, width = mask.shape
    flat = np.asarray(mask, dtype=bool).T.reshape(-1)  # column-major, as COCO counts
    if flat.size == 0:
        return {"size": [int(height), int(width)], "counts": ""}
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs.insert(0, 0)
    chars = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        while True:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
            if not more:
                break
    return {"size": [int(height), int(width)], "counts": "".join(chars)}


def _image_size(data: bytes | Path, max_pixels: int) -> tuple[int, int] | None:
    """Width and height read from an image's header (bytes or a file), or None when it is
    no readable image or has more than ``max_pixels`` pixels (``--max-image-pixels``)."""
    try:
        width, height = image_size(data, max_pixels=max_pixels)
    except (LimitError, MediaError):
        return None
    return (width, height) if width > 0 and height > 0 else None


@functools.lru_cache(maxsize=256)
def _normalised(name: str) -> str | None:
    return normalise_extension(name)


def _declared_ext(kind: str, media: Any) -> str:
    """The extension a media file would get without sniffing its bytes."""
    if media.base64:
        sniffed = sniff_extension(bytes(media.base64[:4096]))
        if sniffed:
            return sniffed
    declared = ""
    if kind == "image":
        declared = media.image_info.format
    elif kind == "video":
        declared = media.video_info.video_format
    ext = _normalised(declared) if declared else None
    url = media.url
    if ext is None and url:
        with contextlib.suppress(ValueError):
            suffix = PurePosixPath(urlsplit(url).path).suffix
            ext = normalise_extension(suffix) if suffix else None
    return ext or _DEFAULT_EXT[kind]


_BIG = float(2**40)


def _round2(x: float) -> float:
    """``round(x, 2)``, the very same float, in less than half the time.

    ``round(x, 2)`` is the double nearest to k/100, k the integer nearest to the exact
    100x (no exact ties but for dyadic x, which the check sends to ``round``). Below 2**40
    ``x * 100.0`` is within 2**-13 of 100x, so away from a half it rounds to that same k,
    and ``k / 100.0`` is the nearest double to k/100. Zero keeps the sign of ``x``.
    """
    s = x * 100.0
    if -_BIG < s < _BIG:
        k = round(s)
        if -0.4999 < s - k < 0.4999:
            return k / 100.0 if k else x * 0.0
    return round(x, 2)


def _round4(x: float) -> float:
    """``round(x, 4)``, the very same float (see :func:`_round2`)."""
    s = x * 10000.0
    if -_BIG < s < _BIG:
        k = round(s)
        if -0.4999 < s - k < 0.4999:
            return k / 10000.0 if k else x * 0.0
    return round(x, 4)


class _Geometry:
    """The COCO fields of one region, in pixels."""

    __slots__ = ("area", "bbox", "keypoints", "segmentation", "shaped")

    def __init__(
        self,
        bbox: list[float],
        area: float,
        segmentation: Any,
        keypoints: list[Any] | None,
        shaped: bool = True,
    ) -> None:
        self.bbox = bbox
        self.area = area
        self.segmentation = segmentation
        self.keypoints = keypoints
        #: Whether the region has a box, polygon or readable mask (not points alone).
        self.shaped = shaped


def _shoelace(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    total = 0.0
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        total += xs[i] * ys[j] - xs[j] * ys[i]
    return abs(total) / 2.0


class _Shape:
    """A region's shapes as read from it; its coordinates wait in a shared list."""

    __slots__ = ("box", "mask", "points", "polygon", "start", "visibility")

    def __init__(self, start: int) -> None:
        self.start = start
        self.box = False
        self.polygon = 0
        self.mask: bytes | None = None
        self.points = 0
        self.visibility: list[int] = []


def read_shape(region: Region, raw: list[float]) -> _Shape | None:
    """Read a region's shapes, appending its normalised coordinates to ``raw`` (box
    top, left, bottom, right; polygon rows and columns; points); None when it has none.
    """
    shape = _Shape(len(raw))
    for field, value in region.region_info.ListFields():
        number = field.number
        if number == 1:  # bounding_box
            shape.box = True
            raw += (value.top_row, value.left_col, value.bottom_row, value.right_col)
        elif number == 5:  # polygon
            points = value.points
            if len(points) >= 3:
                shape.polygon = len(points)
                for p in points:
                    raw += (p.row, p.col)
        elif number == 4:  # mask
            if value.image.base64:
                shape.mask = bytes(value.image.base64)
        elif number == 6:  # point
            shape.points += 1
            shape.visibility.append(value.visibility)
            raw += (value.row, value.col)
        elif number == 9:  # keypoint_locations
            for p in value:
                shape.points += 1
                shape.visibility.append(p.visibility)
                raw += (p.row, p.col)
    if not (shape.box or shape.polygon or shape.mask is not None or shape.points):
        return None
    return shape


def shape_geometry(
    shape: _Shape, raw: list[float], width: int, height: int, max_pixels: int
) -> _Geometry | None:
    """The COCO fields of a shape, from its coordinates in ``raw``; None when one is NaN
    or infinite, or the only shape is an unreadable mask. Pixel values are rounded to
    1/100 pixel, which drops float32 noise (0.3 is stored as 0.30000001192...).
    """
    w, h = float(width), float(height)
    pos = shape.start
    end = pos + 4 * shape.box + 2 * shape.polygon + 2 * shape.points
    values = raw[pos:end]
    if not all(map(math.isfinite, values)):
        return None
    pos = 0
    shaped = False
    bbox: list[float] | None = None
    area: float | None = None
    segmentation: Any = []
    box_area = 0.0
    if shape.box:
        top, left, bottom, right = values[0:4]
        pos = 4
        bw, bh = _round2((right - left) * w), _round2((bottom - top) * h)
        x, y = _round2(left * w), _round2(top * h)
        bbox = [x, y, bw, bh]
        box_area = _round4(bw * bh)
        x2, y2 = _round2(right * w), _round2(bottom * h)
        # The box's corners: what a box holds as a segmentation (segm evaluation).
        segmentation = [[x, y, x2, y, x2, y2, x, y2]]
    if shape.polygon:
        n = shape.polygon
        ys = [_round2(v * h) for v in values[pos : pos + 2 * n : 2]]
        xs = [_round2(v * w) for v in values[pos + 1 : pos + 2 * n : 2]]
        pos += 2 * n
        flat: list[float] = []
        for x, y in zip(xs, ys, strict=True):
            flat += (x, y)
        segmentation = [flat]
        area = _round4(_shoelace(xs, ys))
        if bbox is None:
            x0, y0 = min(xs), min(ys)
            bbox = [x0, y0, _round2(max(xs) - x0), _round2(max(ys) - y0)]
    elif shape.mask is not None:
        decoded = _decode_mask(shape.mask, width, height, max_pixels)
        shaped = shaped or decoded is not None
        if decoded is None:
            if not (shape.box or shape.points):
                return None
        else:
            segmentation, area, mask_box = decoded
            if bbox is None:
                bbox = mask_box
    shaped = bool(shape.box or shape.polygon) or shaped
    keypoints: list[Any] | None = None
    if shape.points:
        keypoints = []
        for visibility in shape.visibility:
            row, col = values[pos], values[pos + 1]
            pos += 2
            v = _VISIBILITY.get(visibility, 2)
            keypoints += (_round2(col * w), _round2(row * h), v) if v else (0.0, 0.0, 0)
        if bbox is None:
            bbox = [keypoints[0], keypoints[1], 0.0, 0.0]
    assert bbox is not None
    if area is None:
        area = box_area
    return _Geometry(bbox, area, segmentation, keypoints, shaped)


def region_geometry(region: Region, width: int, height: int, max_pixels: int) -> _Geometry | None:
    """The COCO bbox, area, segmentation and keypoints of a region, or None when it has
    no usable shape (no geometry, a polygon under 3 points, NaN coordinates, a bad mask).

    Example::

        geometry = region_geometry(region, 640, 480, DEFAULT_LIMITS.max_image_pixels)
    """
    raw: list[float] = []
    shape = read_shape(region, raw)
    if shape is None:
        return None
    return shape_geometry(shape, raw, width, height, max_pixels)


def _decode_mask(
    data: bytes, width: int, height: int, max_pixels: int
) -> tuple[dict[str, Any], int, list[float]] | None:
    from PIL import Image

    try:
        with open_image(data, max_pixels=max_pixels, where="mask") as image:
            mw, mh = image.size
            if mw * mh > max_pixels or mw <= 0 or mh <= 0 or width * height > max_pixels:
                return None
            if "A" in image.getbands():
                plane = image.getchannel("A")
            else:
                plane = image.convert("L")
            if (mw, mh) != (width, height):
                plane = plane.resize((width, height), Image.Resampling.NEAREST)
            mask = np.asarray(plane) > 0
    except Exception:  # noqa: BLE001 - pillow raises many kinds on bad bytes
        return None
    area = int(mask.sum())
    if area:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        x0, y0 = float(cols[0]), float(rows[0])
        box = [x0, y0, float(cols[-1]) + 1 - x0, float(rows[-1]) + 1 - y0]
    else:
        box = [0.0, 0.0, 0.0, 0.0]
    return rle_encode(mask), area, box


class CocoConverter:
    """COCO instances plus (with media) the image files; see the module docstring.

    Example::

        converter = CocoConverter(ConvertJob(output=Path("coco"), sources=(src,)))
    """

    name: ClassVar[str] = "coco"
    summary: ClassVar[str] = "COCO instances folder: annotations.json (+ images/ with media)"
    output_kind: ClassVar[OutputKind] = "folder"
    supports_media: ClassVar[bool] = True
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = False
    batch_work: BatchWork | None = None
    batch_scratch: int = 0

    def __init__(self, job: ConvertJob) -> None:
        self.job = job
        self._max_pixels = job.options.limits.max_image_pixels
        self._keep = job.options.media == "download"
        self._dir_cm = atomic_dir(job.output_path, keep=self._keep)
        try:
            self.root = self._dir_cm.__enter__()
        except OSError as exc:
            raise OutputError(
                f"{job.output_path}: cannot write here ({exc.strerror or exc})"
            ) from None
        self._sink: MediaSink | None = None
        self._video_sink: MediaSink | None = None
        self._spool_dir = self.root / _SPOOL
        self._files: list[BinaryIO] = []
        try:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir.mkdir()
            self._images = self._open("images")
            self._annotations = self._open("annotations")
            self._pending = self._open("pending")
            if job.options.media != "none":
                self._sink = self._make_sink("images")
        except BaseException:
            self.abort()
            raise
        self._namer = self._sink.namer if self._sink is not None else FileNamer()
        self._video_namer: FileNamer | None = None
        self._categories: dict[str, _Category] = {}
        self._by_id: list[_Category] = []
        self._category_ids: dict[tuple[str, str], int] = {}
        self._concept_entries: dict[tuple[str, str, float], dict[str, Any]] = {}
        #: image_info.format -> ".ext" (or None), for the C reader.
        self._extensions: dict[str, str | None] = {}
        #: The C reader takes the batches' wire bytes when no media is written.
        self.reads_raw = SPEEDUPS is not None and self._sink is None
        self._memos = SPEEDUPS.new_memos() if SPEEDUPS is not None and self.reads_raw else None
        self._next_image = 1
        self._next_annotation = 1
        self._images_written = 0
        self._annotations_written = 0
        self._skipped: dict[str, int] = {}
        self._regions_without_concept = 0
        self._regions_without_shape = 0
        self._without_size: list[str] = []
        self._media_names: set[str] = set()
        self._video_names: set[str] = set()
        #: The split of the input being converted (None: untagged, ``annotations.json``).
        self._bucket: str | None = None
        #: This batch's images and annotations of tagged inputs, and keypoint
        #: annotations, by split: written after the batch.
        self._tagged_items: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        self._keypoint_items: dict[str | None, list[dict[str, Any]]] = {}
        self._spools: dict[tuple[str | None, str], BinaryIO] = {}
        self._bucket_images: dict[str | None, int] = {}
        self._written_files: list[str] = []

    # -- setup -------------------------------------------------------------------

    def _open(self, name: str) -> BinaryIO:
        fh = open(self._spool_dir / name, "w+b")  # noqa: SIM115 - closed in finish/abort
        self._files.append(fh)
        return fh

    def _spool(self, bucket: str | None, kind: str) -> BinaryIO:
        """The spool of ``kind`` (images, annotations, keypoints) of a split's files."""
        if bucket is None and kind == "images":
            return self._images
        if bucket is None and kind == "annotations":
            return self._annotations
        fh = self._spools.get((bucket, kind))
        if fh is None:
            try:
                fh = self._spools[bucket, kind] = self._open(f"{kind}@{bucket or ''}")
            except OSError as exc:
                raise OutputError(f"{self.root}: write failed ({exc.strerror or exc})") from None
        return fh

    def _tagged(self, split: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        items = self._tagged_items.get(split)
        if items is None:
            items = self._tagged_items[split] = ([], [])
        return items

    def _flush_side(self) -> None:
        """Write the batch's items of tagged inputs and its keypoint annotations."""
        for split, (images, anns) in self._tagged_items.items():
            self._count_images(split, len(images))
            self._annotations_written += len(anns)
            self._write_items(self._spool(split, "images"), images)
            self._write_items(self._spool(split, "annotations"), anns)
        for bucket, keypoints in self._keypoint_items.items():
            self._annotations_written += len(keypoints)
            self._write_items(self._spool(bucket, "keypoints"), keypoints)
        self._tagged_items = {}
        self._keypoint_items = {}

    def _count_images(self, bucket: str | None, count: int) -> None:
        if count:
            self._images_written += count
            self._bucket_images[bucket] = self._bucket_images.get(bucket, 0) + count

    def _make_sink(self, folder: str) -> MediaSink:
        job = self.job
        return MediaSink(
            self.root / folder,
            mode="download" if job.options.media == "download" else "embedded",
            jobs=job.options.jobs,
            timeout=job.options.timeout,
            retries=job.options.retries,
            pat=job.options.pat,
            on_done=job.media_progress,
            limits=job.options.limits,
            **media_sink_extras(),
        )

    def _category(self, concept_id: str, name: str) -> _Category:
        category = self._categories.get(concept_id)
        if category is None:
            category = _Category(len(self._categories) + 1, concept_id, name)
            self._categories[concept_id] = category
            self._by_id.append(category)
        elif not category.name and name:
            category.name = name
        return category

    def _category_id(self, concept_id: str, name: str) -> int:
        """``_category(concept_id, name).id``, remembered per (id, name): calling
        :meth:`_category` again with the same pair would change nothing."""
        key = (concept_id, name)
        cat_id = self._category_ids.get(key)
        if cat_id is None:
            cat_id = self._category(concept_id, name).id
            if len(self._category_ids) >= _CACHE_SIZE:
                self._category_ids.clear()
            self._category_ids[key] = cat_id
        return cat_id

    # -- converting ----------------------------------------------------------------

    def write_batch(self, batch: SourceBatch) -> None:
        # Images and annotations are written as one spool line per batch: the batch's
        # JSON objects with commas between them.
        if batch.raw is not None and self.reads_raw:
            self._convert_raw(batch)
            return
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        pending: list[bytes] = []
        for record in batch.batch.inputs:
            self._checked_record(batch, record, images, annotations, pending)
        self._count_images(None, len(images))
        self._annotations_written += len(annotations)
        self._write_items(self._images, images)
        self._write_items(self._annotations, annotations)
        self._write(self._pending, pending)
        self._flush_side()

    def _convert_raw(self, batch: SourceBatch) -> None:
        """Convert a batch from its wire bytes with the C reader: it writes the JSON of
        the common image input itself (the very bytes orjson writes for the dicts
        :meth:`_record` makes), counts the inputs COCO leaves out that have neither
        video nor metadata (as :meth:`_record` counts them), and hands every other input
        to :meth:`_record`, in order.
        """
        assert SPEEDUPS is not None and batch.raw is not None
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        pending: list[bytes] = []
        counters = self._counters()

        def other_input(
            data: bytes,
        ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None:
            self._set_counters(counters)
            try:
                record = Input.FromString(data)
            except DecodeError as exc:  # pragma: no cover - scan_batch checked the bytes
                if "Arena alloc" in str(exc):  # upb ran out of memory
                    raise MemoryError(str(exc)) from None
                raise ArchiveError(
                    f"{batch.source}: entry {batch.entry.name!r} is not a readable "
                    f"InputBatch ({exc}); the archive is damaged, download it again"
                ) from None
            self._checked_record(batch, record, images, annotations, pending)
            counters[:] = self._counters()
            if self._tagged_items:  # a tagged input: the C reader files it under its split
                ((split, (split_images, split_annotations)),) = self._tagged_items.items()
                self._tagged_items = {}
                return split, split_images, split_annotations
            return None

        image_json, image_count, annotation_json, annotation_count, splits, left_out = (
            SPEEDUPS.coco_images(
                batch.raw,
                self._memos,
                self._concept_entries,
                self._concept_entry,
                self._category_ids,
                self._category_id,
                self._namer.stem_for,
                self._namer.plain_tables(),
                self._extensions,
                _normalised,
                other_input,
                _dumps,
                images,
                annotations,
                counters,
            )
        )
        for kind, count in zip(("text", "audio", "unknown"), left_out, strict=True):
            if count:
                self._skipped[kind] = self._skipped.get(kind, 0) + count
        assert not pending  # only downloads wait: the C reader runs without media
        self._set_counters(counters)
        self._count_images(None, image_count)
        self._annotations_written += annotation_count
        if image_json:
            self._write(self._images, [image_json, b"\n"])
        if annotation_json:
            self._write(self._annotations, [annotation_json, b"\n"])
        for split, split_images, split_count, split_annotations, split_ann_count in splits:
            self._count_images(split, split_count)
            self._annotations_written += split_ann_count
            if split_images:
                self._write(self._spool(split, "images"), [split_images, b"\n"])
            if split_annotations:
                self._write(self._spool(split, "annotations"), [split_annotations, b"\n"])
        self._flush_side()

    def _counters(self) -> list[int]:
        """The numbering and counts the C reader and the Python path hand each other."""
        return [
            self._next_image,
            self._next_annotation,
            self._regions_without_concept,
            self._regions_without_shape,
        ]

    def _set_counters(self, counters: list[int]) -> None:
        (
            self._next_image,
            self._next_annotation,
            self._regions_without_concept,
            self._regions_without_shape,
        ) = counters

    def _checked_record(
        self,
        batch: SourceBatch,
        record: Input,
        images: list[dict[str, Any]],
        annotations: list[dict[str, Any]],
        pending: list[bytes],
    ) -> None:
        """:meth:`_record`, with a metadata number JSON cannot hold (NaN, infinity) as a
        SchemaError naming the input, or as null (``--bad-numbers null``), noted."""
        nulled = current_nulls()
        before = nulled.numbers if nulled is not None else 0
        try:
            self._record(record, images, annotations, pending)
        except ValueError as exc:
            raise SchemaError(
                f"{quote_path(batch.source)}: input {record.id!r}: cannot be written as JSON "
                f"({exc})",
                params=params_of(exc),
            ) from None
        if nulled is not None:
            nulled.record(record.id, before)

    def _record(
        self,
        record: Input,
        images: list[dict[str, Any]],
        annotations: list[dict[str, Any]],
        pending: list[bytes],
    ) -> None:
        """The image entry (or entries, for video frames) and annotations of one input.

        Those of an input tagged with a split go to that split's lists instead."""
        data = record.data
        split = split_of(record) if data.HasField("metadata") else None
        self._bucket = split
        if split is not None:
            images, annotations = self._tagged(split)
        if not data.HasField("image"):
            if self.job.options.video_frames and data.HasField("video"):
                self._video(record, images, annotations, pending)
            else:
                kind = input_type(record)
                self._skipped[kind] = self._skipped.get(kind, 0) + 1
            return
        image = data.image
        info = image.image_info
        width, height = info.width, info.height
        # Without a media sink, the common image (its size in image_info, no embedded
        # bytes) is converted here: the same steps as _image, fewer calls.
        if self._sink is not None or width <= 0 or height <= 0 or image.base64:
            self._image(record, data, images, annotations, pending)
            return
        fmt = info.format
        ext = _normalised(fmt) if fmt else None
        if ext is None:
            ext = _declared_ext("image", image)
        input_id = record.id
        image_id = self._next_image
        images.append(
            {
                "id": image_id,
                "file_name": f"{self._namer.stem_for(input_id)}.{ext}",
                "width": width,
                "height": height,
                "clarifai_input_id": input_id,
                "clarifai_concepts": self._concepts(data.concepts),
                "clarifai_metadata": _struct(data.metadata) if data.HasField("metadata") else {},
            }
        )
        self._next_image = image_id + 1
        regions = data.regions
        if regions:
            self._annotate(image_id, regions, width, height, annotations)

    def _write(self, fh: BinaryIO, parts: list[bytes]) -> None:
        if not parts:
            return
        try:
            fh.write(b"".join(parts))
        except OSError as exc:
            raise OutputError(f"{self.root}: write failed ({exc.strerror or exc})") from None

    def _write_items(self, fh: BinaryIO, items: list[dict[str, Any]]) -> None:
        """Write ``items`` as one spool line: the JSON objects with commas between."""
        if items:
            data = _dumps(items)
            self._write(fh, [memoryview(data)[1:-1], b"\n"])  # type: ignore[list-item]

    def _concepts(self, concepts: Any) -> list[dict[str, Any]]:
        out = []
        entries = self._concept_entries
        for c in concepts[:]:  # a list: iterating the container itself is slower
            value = c.value
            if value > 0:
                # The same (id, name, value) gives the same entry: made once and shared.
                entry = entries.get((c.id, c.name, value))
                out.append(entry if entry is not None else self._concept_entry(c.id, c.name, value))
        return out

    def _concept_entry(self, concept_id: str, name: str, value: float) -> dict[str, Any]:
        """The ``clarifai_concepts`` entry of a positive concept, made and remembered."""
        entries = self._concept_entries
        entry: dict[str, Any] = {"id": concept_id, "name": name, "value": np.float32(value)}
        if self.job.options.image_labels:
            entry["category_id"] = self._category(concept_id, name).id
        if len(entries) >= _CACHE_SIZE:
            entries.clear()
        entries[(concept_id, name, value)] = entry
        return entry

    def _image(
        self,
        record: Input,
        data: Any,
        images: list[dict[str, Any]],
        annotations: list[dict[str, Any]],
        pending: list[bytes],
    ) -> None:
        image = data.image
        input_id = record.id
        sink = self._sink
        may_rename = False
        if sink is None:
            name: str | None = f"{self._namer.stem_for(input_id)}.{_declared_ext('image', image)}"
        else:
            name = sink.submit(record)
            if name is None:
                name = f"{self._namer.stem_for(input_id)}.{_declared_ext('image', image)}"
            elif not image.base64 and self.job.options.media == "download":
                may_rename = True  # a download: its real format may change the extension
            if self._keep:
                self._media_names.add(name)
        info = image.image_info
        width, height = info.width, info.height
        if width <= 0 or height <= 0:
            size = _image_size(bytes(image.base64), self._max_pixels) if image.base64 else None
            width, height = size if size else (0, 0)
        entry: dict[str, Any] = {
            "id": 0,
            "file_name": name,
            "width": width,
            "height": height,
            "clarifai_input_id": input_id,
            "clarifai_concepts": self._concepts(data.concepts),
            "clarifai_metadata": _struct(data.metadata) if data.HasField("metadata") else {},
        }
        if width <= 0 or height <= 0:
            if not may_rename:
                self._without_size.append(input_id)
                return
            # A download: the size is read from the file once it is there.
            entry["id"] = self._next_image
            self._next_image += 1
            regions = self._labelled_regions(data.regions)
            pending.append(self._pending_line(entry, input_id, True, False, regions))
            return
        entry["id"] = image_id = self._next_image
        self._next_image = image_id + 1
        regions = data.regions
        if regions:
            self._annotate(image_id, regions, width, height, annotations)
        if may_rename:
            pending.append(self._pending_line(entry, input_id, False, False, []))
        else:
            images.append(entry)

    def _video(
        self,
        record: Input,
        images: list[dict[str, Any]],
        annotations: list[dict[str, Any]],
        pending: list[bytes],
    ) -> None:
        data = record.data
        video = data.video
        frames = [f for f in data.frames if len(f.data.regions)]
        if not frames:
            self._skipped["video"] = self._skipped.get("video", 0) + 1
            return
        name = None
        if self.job.options.media != "none":
            if self._video_sink is None:
                self._video_sink = self._make_sink("videos")
            name = self._video_sink.submit(record)
        namer = self._video_sink.namer if self._video_sink is not None else None
        if namer is None:
            if self._video_namer is None:
                self._video_namer = FileNamer()
            namer = self._video_namer
        stem = namer.stem_for(record.id)
        may_rename = name is not None and not video.base64 and self.job.options.media == "download"
        if name is None:
            name = f"{stem}.{_declared_ext('video', video)}"
        if self._keep:
            self._video_names.add(name)
        width, height = video.video_info.width, video.video_info.height
        metadata = _struct(data.metadata) if data.HasField("metadata") else {}
        for position, frame in enumerate(data.frames):
            if not len(frame.data.regions):
                continue
            if width <= 0 or height <= 0:
                self._without_size.append(f"{record.id} (frame {position})")
                continue
            entry: dict[str, Any] = {
                "id": self._next_image,
                "file_name": f"frames/{stem}/{position:06d}.jpg",
                "width": width,
                "height": height,
                "clarifai_input_id": record.id,
                "clarifai_frame_id": frame.id,
                "clarifai_frame_index": frame.frame_info.index,
                "clarifai_frame_time_ms": frame.frame_info.time,
                "clarifai_video_file": f"videos/{name}",
                "clarifai_concepts": self._concepts(frame.data.concepts),
                "clarifai_metadata": metadata,
            }
            self._next_image += 1
            self._annotate(entry["id"], frame.data.regions, width, height, annotations)
            if may_rename:
                pending.append(self._pending_line(entry, record.id, False, True, []))
            else:
                images.append(entry)

    def _labelled_regions(self, regions: Any) -> list[list[Any]]:
        """Regions with a positive concept, serialized, with their category ids."""
        out = []
        for region in regions:
            cats = [self._category_id(c.id, c.name) for c in region.data.concepts if c.value > 0]
            if not cats:
                self._regions_without_concept += 1
                continue
            out.append([base64.b64encode(region.SerializeToString()).decode("ascii"), cats])
        return out

    def _annotate(
        self, image_id: int, regions: Any, width: int, height: int, out: list[dict[str, Any]]
    ) -> None:
        w, h = float(width), float(height)
        category_ids = self._category_ids
        # Slices: lists, which iterate faster than protobuf's containers.
        for region in regions[:]:
            cats = []
            for c in region.data.concepts[:]:
                if c.value > 0:
                    key = (c.id, c.name)
                    cat_id = category_ids.get(key)
                    cats.append(cat_id if cat_id is not None else self._category_id(*key))
            if not cats:
                self._regions_without_concept += 1
                continue
            fields = region.region_info.ListFields()
            if len(fields) == 1 and fields[0][0].number == 1:
                # The common case, a lone bounding box: shape_geometry's arithmetic, inline.
                box = fields[0][1]
                top, left = box.top_row, box.left_col
                bottom, right = box.bottom_row, box.right_col
                total = top + left + bottom + right
                if total - total == 0.0:  # all finite (else shape_geometry decides)
                    bw, bh = _round2((right - left) * w), _round2((bottom - top) * h)
                    x, y = _round2(left * w), _round2(top * h)
                    bbox = [x, y, bw, bh]
                    area = _round4(bw * bh)
                    x2, y2 = _round2(right * w), _round2(bottom * h)
                    segmentation = [[x, y, x2, y, x2, y2, x, y2]]
                    region_id = region.id
                    ann_id = self._next_annotation
                    for cat_id in cats:
                        out.append(
                            {
                                "id": ann_id,
                                "image_id": image_id,
                                "category_id": cat_id,
                                "bbox": bbox,
                                "area": area,
                                "iscrowd": 0,
                                "segmentation": segmentation,
                                "clarifai_region_id": region_id,
                            }
                        )
                        ann_id += 1
                    self._next_annotation = ann_id
                    continue
            raw: list[float] = []
            shape = read_shape(region, raw)
            if shape is None:
                self._regions_without_shape += 1
                continue
            geometry = shape_geometry(shape, raw, width, height, self._max_pixels)
            self._emit(image_id, region.id, geometry, cats, out)

    def _emit(
        self,
        image_id: int,
        region_id: str,
        geometry: _Geometry | None,
        category_ids: list[int],
        out: list[dict[str, Any]],
    ) -> None:
        if geometry is None:
            self._regions_without_shape += 1
            return
        keypoints = geometry.keypoints
        for cat_id in category_ids:
            if geometry.shaped:
                out.append(
                    {
                        "id": self._next_annotation,
                        "image_id": image_id,
                        "category_id": cat_id,
                        "bbox": geometry.bbox,
                        "area": geometry.area,
                        "iscrowd": 0,
                        "segmentation": geometry.segmentation,
                        "clarifai_region_id": region_id,
                    }
                )
                self._next_annotation += 1
            if keypoints is not None:
                # COCO keeps keypoints in their own file (person_keypoints_*.json).
                kp_out = self._keypoint_items.get(self._bucket)
                if kp_out is None:
                    kp_out = self._keypoint_items[self._bucket] = []
                kp_out.append(
                    {
                        "id": self._next_annotation,
                        "image_id": image_id,
                        "category_id": cat_id,
                        "bbox": geometry.bbox,
                        "area": geometry.area,
                        "iscrowd": 0,
                        "segmentation": geometry.segmentation,
                        "keypoints": keypoints,
                        "num_keypoints": sum(1 for v in keypoints[2::3] if v),
                        "clarifai_region_id": region_id,
                    }
                )
                self._next_annotation += 1
                category = self._by_id[cat_id - 1]
                category.keypoints = max(category.keypoints, len(keypoints) // 3)

    def _pending_line(
        self,
        entry: dict[str, Any],
        input_id: str,
        needs_size: bool,
        video: bool,
        regions: list[list[Any]],
    ) -> bytes:
        line = {
            "split": self._bucket,
            "image": entry,
            "input_id": input_id,
            "needs_size": needs_size,
            "video": video,
            "regions": regions,
        }
        return orjson.dumps(line, option=_NUMPY) + b"\n"

    # -- finishing -------------------------------------------------------------------

    def finish(self) -> ConvertCounts:
        media: MediaReport | None = None
        video_media: MediaReport | None = None
        if self._sink is not None:
            media = self._sink.close()
        if self._video_sink is not None:
            video_media = self._video_sink.close()
        renamed = media.renamed if media is not None else {}
        video_renamed = video_media.renamed if video_media is not None else {}
        self._resolve_pending(renamed, video_renamed)
        if self._keep:
            self._prune("images", self._media_names, renamed)
            self._prune("videos", self._video_names, video_renamed)
        self._assemble()
        for fh in self._files:
            fh.close()
        self._files = []
        return ConvertCounts(
            written=self._images_written,
            images=self._images_written,
            annotations=self._annotations_written,
            categories=len(self._categories),
            skipped_inputs=dict(sorted(self._skipped.items())),
            regions_without_concept=self._regions_without_concept,
            regions_without_shape=self._regions_without_shape,
            images_without_size=tuple(self._without_size),
            media=_merge_reports(media, video_media),
        )

    def _resolve_pending(self, renamed: dict[str, str], video_renamed: dict[str, str]) -> None:
        self._pending.flush()
        self._pending.seek(0)
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for line in self._pending:
            item = orjson.loads(line)
            self._bucket = split = item["split"]
            bucket_images, bucket_annotations = (
                (images, annotations) if split is None else self._tagged(split)
            )
            entry = item["image"]
            input_id = item["input_id"]
            if item["video"]:
                new = video_renamed.get(input_id)
                if new is not None:
                    entry["clarifai_video_file"] = f"videos/{new}"
            else:
                new = renamed.get(input_id)
                if new is not None:
                    entry["file_name"] = new
            if item["needs_size"]:
                size = _image_size(self.root / "images" / entry["file_name"], self._max_pixels)
                if size is None:
                    self._without_size.append(input_id)
                    continue
                entry["width"], entry["height"] = size
                for encoded, cats in item["regions"]:
                    region = Region.FromString(base64.b64decode(encoded))
                    geometry = region_geometry(region, size[0], size[1], self._max_pixels)
                    self._emit(entry["id"], region.id, geometry, cats, bucket_annotations)
            bucket_images.append(entry)
            if len(bucket_images) >= 1024:
                self._flush_resolved(images, annotations)
                images, annotations = [], []
        self._flush_resolved(images, annotations)

    def _flush_resolved(
        self, images: list[dict[str, Any]], annotations: list[dict[str, Any]]
    ) -> None:
        self._count_images(None, len(images))
        self._annotations_written += len(annotations)
        self._write_items(self._images, images)
        self._write_items(self._annotations, annotations)
        self._flush_side()

    def _prune(self, folder: str, names: set[str], renamed: dict[str, str]) -> None:
        """Remove files an earlier run left that belong to no input of this one."""
        path = self.root / folder
        if not path.is_dir():
            return
        keep = names | set(renamed.values())
        with os.scandir(path) as entries:
            stale = [e.path for e in entries if e.is_file() and e.name not in keep]
        for item in stale:
            with contextlib.suppress(OSError):
                os.unlink(item)

    def _category_list(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for category in self._categories.values():
            name = category.name or category.concept_id
            counts[name] = counts.get(name, 0) + 1
        out = []
        for category in self._categories.values():
            name = category.name or category.concept_id
            if counts[name] > 1:
                name = f"{name} ({category.concept_id})"
            entry: dict[str, Any] = {
                "id": category.id,
                "name": name,
                "supercategory": "",
                "clarifai_concept_id": category.concept_id,
            }
            if category.keypoints:
                k = category.keypoints
                entry["keypoints"] = ["point"] if k == 1 else [f"point{i + 1}" for i in range(k)]
                entry["skeleton"] = []
            out.append(entry)
        return out

    def _assemble(self) -> None:
        """Write the JSON files from the spools, each in one piece, in the spool folder
        (:meth:`commit` moves them into place, last)."""
        splits = sorted(b for b in self._bucket_images if b is not None)
        buckets: list[str | None] = [None] if self._bucket_images.get(None) or not splits else []
        buckets += splits
        categories = self._category_list()
        keypoint_categories = [c for c in categories if "keypoints" in c]
        for bucket in buckets:
            suffix = "" if bucket is None else f"_{bucket}"
            name = _ANNOTATIONS if bucket is None else f"instances{suffix}.json"
            self._write_file(name, "instances", bucket, "annotations", categories)
            keypoints = self._spools.get((bucket, "keypoints"))
            if keypoints is not None:
                self._write_file(
                    f"person_keypoints{suffix}.json",
                    "keypoints",
                    bucket,
                    "keypoints",
                    keypoint_categories,
                )

    def _write_file(
        self,
        name: str,
        kind: str,
        bucket: str | None,
        spool: str,
        categories: list[dict[str, Any]],
    ) -> None:
        sources = ", ".join(p.name for p in self.job.sources)
        split = "" if bucket is None else f" (split {bucket})"
        info = {
            "description": f"COCO {kind}{split} converted from {sources} by "
            "clarifai-archive-toolkit",
            "url": "",
            "version": __version__,
            "year": 0,
            "contributor": "clarifai-archive-toolkit",
            "date_created": "",
        }
        head = b'{"info":' + orjson.dumps(info) + b',"licenses":[],"images":['
        middle = b'],"annotations":['
        tail = b'],"categories":' + orjson.dumps(categories) + b"}\n"
        tmp = self._spool_dir / name
        try:
            with open(tmp, "wb") as out:
                out.write(head)
                _copy_lines(self._spool(bucket, "images"), out)
                out.write(middle)
                if spool == "keypoints":
                    self._copy_keypoints(self._spool(bucket, spool), out)
                else:
                    _copy_lines(self._spool(bucket, spool), out)
                out.write(tail)
        except OSError as exc:
            raise OutputError(f"{self.root}: write failed ({exc.strerror or exc})") from None
        self._written_files.append(name)

    def _copy_keypoints(self, src: BinaryIO, out: BinaryIO) -> None:
        """Copy the keypoint annotations, each padded with unlabelled points (``0, 0, 0``)
        to its category's number of keypoints, as COCO wants (a category's count is known
        only at the end). One spool line (a batch's annotations) in memory at a time."""
        src.flush()
        src.seek(0)
        first = True
        for line in src:
            items = orjson.loads(b"[" + line[:-1] + b"]")
            for ann in items:
                missing = 3 * self._by_id[ann["category_id"] - 1].keypoints - len(ann["keypoints"])
                if missing > 0:
                    ann["keypoints"] += [0.0, 0.0, 0] * (missing // 3)
            if items:
                if not first:
                    out.write(b",")
                out.write(_dumps(items)[1:-1])
                first = False

    def commit(self) -> None:
        try:
            written = set(self._written_files)
            for name in os.listdir(self.root):  # files of an earlier (resumed) run
                ours = name in (_ANNOTATIONS, _KEYPOINTS) or SPLIT_FILE.match(name)
                if ours and name not in written:
                    os.unlink(self.root / name)
            for name in self._written_files:
                os.replace(self._spool_dir / name, self.root / name)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.root}: write failed ({exc.strerror or exc})") from None
        shutil.rmtree(self._spool_dir, ignore_errors=True)
        self._dir_cm.__exit__(None, None, None)

    def abort(self) -> None:
        for sink in (self._sink, self._video_sink):
            if sink is not None:
                with contextlib.suppress(Exception):
                    sink.abort()
        for fh in self._files:
            with contextlib.suppress(OSError):
                fh.close()
        self._files = []
        shutil.rmtree(self._spool_dir, ignore_errors=True)
        error = _Aborted()
        self._dir_cm.__exit__(_Aborted, error, None)


def _copy_lines(src: BinaryIO, out: BinaryIO, size: int = 1 << 20) -> None:
    """Copy newline-ended JSON lines as the items of a JSON array (commas between).

    Block by block, each byte looked at once: every line end but the last becomes a
    comma, so a line of any length (one huge metadata string) costs time linear in its
    bytes and memory of one block.
    """
    src.flush()
    src.seek(0)
    held = False  # a line end at the end of the previous block, not yet written
    while block := src.read(size):
        if held:
            out.write(b",")
        held = block.endswith(b"\n")
        out.write(block[:-1].replace(b"\n", b",") if held else block.replace(b"\n", b","))


def _merge_reports(a: MediaReport | None, b: MediaReport | None) -> MediaReport | None:
    if a is None or b is None:
        return a if b is None else b
    return a.combined(b)
