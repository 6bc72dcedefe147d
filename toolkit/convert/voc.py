"""``--to voc``: the Pascal VOC detection layout.

Layout and rules (also in the README):

- ``Annotations/<stem>.xml`` per image input whose size is known (``image_info``, else
  read from the image's header: embedded bytes, or the downloaded file), with
  ``folder``, ``filename``, ``size`` (``width``, ``height``, ``depth`` 3) and one
  ``object`` per (region, positive concept): ``name`` (the concept's name, else its id),
  ``pose`` ``Unspecified``, ``truncated`` (1 when the box reached past the image and was
  clipped), ``difficult`` 0 and ``bndbox``.
- ``bndbox`` in the VOC devkit's convention: integer pixel indices from 1, both ends
  included: ``xmin = round(left*W) + 1``, ``xmax = round(right*W)`` (so a box over the
  whole image is ``1..W``). A polygon without a box gives its extent; masks and points
  have no VOC box and are counted as regions without a usable shape.
- ``JPEGImages/`` holds the media (``--media embedded|download``; the files keep their
  own format and extension, which ``filename`` names).
- ``ImageSets/Main/<split>.txt``: the stems of each split (``split --tag`` metadata,
  ``train`` when absent), in archive order.
- ``labelmap.txt`` (the label list Datumaro and CVAT read beside VOC; ``name:::`` a
  line), written when every name fits such a line (no ``:``, line break, leading ``#``
  or surrounding spaces); without it those tools assume VOC's 20 classes.
- Text is escaped (``&``, ``<``, ``>``); characters XML 1.0 cannot hold become U+FFFD.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import math
import re
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from ..errors import OutputError
from ..messages import Input
from ._base import ConvertJob
from ._training import TrainingFolderConverter, clip01

__all__ = ["VocConverter", "xml_text"]

_SPOOL = ".voc-pending"

# Made on first use, as the xml modules are imported then: every conversion imports this
# module, and the pattern (5 ms to compile) and xml.sax.saxutils (which imports
# urllib.request and http.client) would cost each one's start about 15 ms.


@functools.cache
def _illegal() -> re.Pattern[str]:
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold replaced by U+FFFD."""
    return _illegal().sub("\ufffd", text)


def _line(depth: int, tag: str, text: str | int) -> str:
    """One element with text, indented (ElementTree's serializer makes reference cycles,
    which pile up while a conversion pauses the garbage collector)."""
    from xml.sax.saxutils import escape

    return f"{'  ' * depth}<{tag}>{escape(xml_text(str(text)))}</{tag}>\n"


def _labelmap_safe(name: str) -> bool:
    """Whether ``name`` fits a line of ``labelmap.txt`` (``name:color:parts:actions``)."""
    return (
        bool(name)
        and ":" not in name
        and name == name.strip()
        and not name.startswith("#")
        and len(name.splitlines()) == 1
    )


class VocConverter(TrainingFolderConverter):
    """Pascal VOC detection folder; see the module docstring.

    Example::

        converter = VocConverter(ConvertJob(output=Path("voc"), sources=(src,)))
    """

    name: ClassVar[str] = "voc"
    summary: ClassVar[str] = (
        "Pascal VOC folder: Annotations/, ImageSets/Main/<split>.txt (+ JPEGImages/ with media)"
    )
    generated: ClassVar[tuple[str, ...]] = ("Annotations", "ImageSets", "labelmap.txt", _SPOOL)

    def __init__(self, job: ConvertJob) -> None:
        self._lists: dict[str, BinaryIO] = {}
        self._pending: BinaryIO | None = None
        #: The object names, in first-appearance order (for labelmap.txt).
        self._names: dict[str, None] = {}
        super().__init__(job)
        self._max_pixels = job.options.limits.max_image_pixels

    def image_folder(self, split: str) -> Path:
        return self.root / "JPEGImages"

    def media_folders(self) -> list[Path]:
        folder = self.root / "JPEGImages"
        return [folder] if folder.is_dir() else []

    def write_labels(self, record: Input, split: str, stem: str, file_name: str) -> None:
        from .coco import _image_size

        image = record.data.image
        width, height = image.image_info.width, image.image_info.height
        if (width <= 0 or height <= 0) and image.base64:
            size = _image_size(bytes(image.base64), self._max_pixels)
            width, height = size if size else (0, 0)
        if width <= 0 or height <= 0:
            if self.job.options.media == "download" and (image.url or image.HasField("hosted")):
                self._defer(record, split, stem, file_name)
            else:
                self.without_size.append(record.id)
            return
        self._write_xml(record, split, stem, file_name, width, height)

    def _write_xml(
        self, record: Input, split: str, stem: str, file_name: str, width: int, height: int
    ) -> None:
        parts = [
            "<annotation>\n",
            _line(1, "folder", "JPEGImages"),
            _line(1, "filename", file_name),
            "  <source>\n",
            _line(2, "database", "Clarifai"),
            _line(2, "input_id", record.id),
            "  </source>\n  <size>\n",
            _line(2, "width", width),
            _line(2, "height", height),
            _line(2, "depth", 3),
            "  </size>\n",
            _line(1, "segmented", 0),
        ]
        for region in record.data.regions:
            concepts = [c for c in region.data.concepts if c.value > 0]
            if not self.labelled(region):
                continue
            box = self._box(region, width, height)
            if box is None:
                self.regions_without_shape += 1
                continue
            truncated, xmin, ymin, xmax, ymax = box
            for concept in concepts:
                name = xml_text(concept.name or concept.id)
                self._names.setdefault(name, None)
                parts += (
                    "  <object>\n",
                    _line(2, "name", name),
                    _line(2, "pose", "Unspecified"),
                    _line(2, "truncated", truncated),
                    _line(2, "difficult", 0),
                    "    <bndbox>\n",
                    _line(3, "xmin", xmin),
                    _line(3, "ymin", ymin),
                    _line(3, "xmax", xmax),
                    _line(3, "ymax", ymax),
                    "    </bndbox>\n  </object>\n",
                )
                self.annotations += 1
        parts.append("</annotation>\n")
        data = "".join(parts).encode("utf-8")
        self.write_file(self.root / "Annotations" / f"{stem}.xml", data)
        self._list(split).write(stem.encode("utf-8") + b"\n")

    @staticmethod
    def _box(region: Any, width: int, height: int) -> tuple[int, int, int, int, int] | None:
        """(truncated, xmin, ymin, xmax, ymax) in VOC pixels, or None without a usable box."""
        info = region.region_info
        if info.HasField("bounding_box"):
            box = info.bounding_box
            left, top, right, bottom = box.left_col, box.top_row, box.right_col, box.bottom_row
        elif len(info.polygon.points) >= 3:
            points = info.polygon.points
            cols, rows = [p.col for p in points], [p.row for p in points]
            left, top, right, bottom = min(cols), min(rows), max(cols), max(rows)
        else:
            return None
        raw = (left, top, right, bottom)
        if not all(math.isfinite(v) for v in raw):
            return None
        left, right = sorted((clip01(left), clip01(right)))
        top, bottom = sorted((clip01(top), clip01(bottom)))
        if right <= left or bottom <= top:
            return None
        truncated = int(raw != (left, top, right, bottom))
        xmin = min(round(left * width) + 1, width)
        ymin = min(round(top * height) + 1, height)
        xmax = max(round(right * width), xmin)
        ymax = max(round(bottom * height), ymin)
        return truncated, xmin, ymin, xmax, ymax

    def _list(self, split: str) -> BinaryIO:
        fh = self._lists.get(split)
        if fh is None:
            path = self.root / "ImageSets" / "Main" / f"{split}.txt"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fh = self._lists[split] = open(path, "wb")  # noqa: SIM115 - closed in finish
            except OSError as exc:
                raise OutputError(f"{path}: write failed ({exc.strerror or exc})") from None
        return fh

    def _defer(self, record: Input, split: str, stem: str, file_name: str) -> None:
        """Keep a download's labels until its file is there to read the size from."""
        slim = Input(id=record.id)
        slim.data.regions.extend(record.data.regions)
        if self._pending is None:
            self._pending = open(self.root / _SPOOL, "w+b")  # noqa: SIM115 - closed in finish
        line = " ".join(
            base64.b64encode(s.encode("utf-8")).decode("ascii") for s in (split, stem, file_name)
        )
        self._pending.write(
            line.encode("ascii") + b" " + base64.b64encode(slim.SerializeToString()) + b"\n"
        )

    def write_index(self, renamed: dict[str, str]) -> None:
        from .coco import _image_size

        if self._pending is not None:
            self._pending.flush()
            self._pending.seek(0)
            for line in self._pending:
                split_b, stem_b, name_b, data = line.split()
                split, stem, file_name = (
                    base64.b64decode(v).decode("utf-8") for v in (split_b, stem_b, name_b)
                )
                record = Input.FromString(base64.b64decode(data))
                file_name = renamed.get(record.id, file_name)
                path = self.root / "JPEGImages" / file_name
                size = _image_size(path, self._max_pixels) if path.is_file() else None
                if size is None:
                    self.without_size.append(record.id)
                    continue
                self._write_xml(record, split, stem, file_name, *size)
            self._pending.close()
            self._pending = None
            (self.root / _SPOOL).unlink()
        for input_id, new in renamed.items():
            path = self.root / "Annotations" / f"{self.namer.stem_for(input_id)}.xml"
            if path.is_file():
                import xml.etree.ElementTree as ET

                tree = ET.parse(path)
                element = tree.getroot().find("filename")
                if element is not None and element.text != new:
                    element.text = xml_text(new)
                    data = ET.tostring(tree.getroot(), encoding="utf-8") + b"\n"
                    self.write_file(path, data)
        for fh in self._lists.values():
            fh.close()
        self._lists = {}
        if all(_labelmap_safe(name) for name in self._names):
            lines = ["# label:color_rgb:parts:actions"] + [f"{name}:::" for name in self._names]
            self.write_file(self.root / "labelmap.txt", ("\n".join(lines) + "\n").encode())
        for split in self.split_counts:  # a split whose images all lacked a size
            path = self.root / "ImageSets" / "Main" / f"{split}.txt"
            if not path.exists():
                self.write_file(path, b"")

    def abort(self) -> None:
        for fh in [*self._lists.values(), *([self._pending] if self._pending else [])]:
            with contextlib.suppress(OSError):
                fh.close()
        self._lists = {}
        self._pending = None
        super().abort()
