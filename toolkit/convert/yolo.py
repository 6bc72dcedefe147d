"""``--to yolo``: the Ultralytics dataset layout.

Layout and rules (also in the README):

- ``images/<split>/<stem>.<ext>`` (with ``--media embedded|download``) and
  ``labels/<split>/<stem>.txt`` for every image input, an empty file when it has no
  label; ``<split>`` is the input's ``split`` metadata (``split --tag``), ``train`` when
  it has none.
- ``--task detect``: one row ``class cx cy w h`` per (region, positive concept), values
  normalised to [0, 1] with 6 decimals. The box is clipped to the image first; a box
  left with no width or height is not written. A polygon without a box gives its extent.
- ``--task segment``: one row ``class x1 y1 x2 y2 ...`` per (region, positive concept):
  the polygon's points clipped to [0, 1]; a box becomes its 4 corners, since Ultralytics
  reads a file as segments only when every row is one.
- Masks and points have no YOLO detect/segment row: counted as regions without a usable
  shape, as are NaN coordinates.
- ``data.yaml``: ``path`` (the output folder, absolute), ``train``, ``val`` (the ``val``,
  ``valid`` or ``validation`` split, else the training images), ``test`` when there is
  such a split, and ``names`` (class id: name). Classes are the regions' positive
  concepts from 0 in the order they first appear.
- Non-image inputs are counted and skipped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

from ..messages import Input
from ._base import ConvertJob
from ._training import TrainingFolderConverter, clip01

__all__ = ["TASKS", "YoloConverter", "yaml_string"]

#: The ``--task`` choices.
TASKS = ("detect", "segment")
_VAL = ("val", "valid", "validation")


def _number(value: float) -> str:
    text = f"{value:.6f}"
    return "0.000000" if text == "-0.000000" else text


def yaml_string(text: str) -> str:
    """``text`` as a double-quoted YAML scalar in plain ASCII (every reader agrees on it:
    quotes, backslashes, control and non-ASCII characters escaped)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF and not 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif code > 0xFFFF:
            out.append(f"\\U{code:08x}")
        else:  # a lone surrogate cannot be written: the replacement character
            out.append("\\ufffd")
    out.append('"')
    return "".join(out)


class YoloConverter(TrainingFolderConverter):
    """Ultralytics YOLO detect or segment dataset; see the module docstring.

    Example::

        converter = YoloConverter(ConvertJob(output=Path("yolo"), sources=(src,)))
    """

    name: ClassVar[str] = "yolo"
    summary: ClassVar[str] = (
        "Ultralytics YOLO folder: labels/<split>/, data.yaml (+ images/<split>/ with media)"
    )
    generated: ClassVar[tuple[str, ...]] = ("labels", "data.yaml")

    def __init__(self, job: ConvertJob) -> None:
        if job.options.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, not {job.options.task!r}")
        super().__init__(job)
        self.segment = job.options.task == "segment"

    def image_folder(self, split: str) -> Path:
        return self.root / "images" / split

    def media_folders(self) -> list[Path]:
        images = self.root / "images"
        return sorted(p for p in images.iterdir() if p.is_dir()) if images.is_dir() else []

    def write_labels(self, record: Input, split: str, stem: str, file_name: str) -> None:
        rows: list[str] = []
        for region in record.data.regions:
            classes = self.labelled(region)
            if not classes:
                continue
            coords = self._coords(region)
            if coords is None:
                self.regions_without_shape += 1
                continue
            for cls in classes:
                rows.append(f"{cls} {coords}\n")
        self.annotations += len(rows)
        self.write_file(self.root / "labels" / split / f"{stem}.txt", "".join(rows).encode())

    def _coords(self, region: Any) -> str | None:
        """The row's numbers after the class, or None when the region has no usable shape."""
        info = region.region_info
        box = info.bounding_box if info.HasField("bounding_box") else None
        points = info.polygon.points if len(info.polygon.points) >= 3 else None
        if self.segment and points is not None:
            values = [(p.col, p.row) for p in points]
            if not all(math.isfinite(v) for xy in values for v in xy):
                return None
            return " ".join(f"{_number(clip01(x))} {_number(clip01(y))}" for x, y in values)
        if box is not None:
            left, top, right, bottom = box.left_col, box.top_row, box.right_col, box.bottom_row
        elif points is not None:
            cols, rows = [p.col for p in points], [p.row for p in points]
            left, top, right, bottom = min(cols), min(rows), max(cols), max(rows)
        else:
            return None
        if not all(math.isfinite(v) for v in (left, top, right, bottom)):
            return None
        left, right = sorted((clip01(left), clip01(right)))
        top, bottom = sorted((clip01(top), clip01(bottom)))
        if right <= left or bottom <= top:
            return None
        if self.segment:
            corners = ((left, top), (right, top), (right, bottom), (left, bottom))
            return " ".join(f"{_number(x)} {_number(y)}" for x, y in corners)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        return " ".join(_number(v) for v in (cx, cy, right - left, bottom - top))

    def write_index(self, renamed: dict[str, str]) -> None:
        splits = sorted(self.split_counts)
        val = next((s for s in _VAL if s in self.split_counts), None)
        test = "test" if "test" in self.split_counts else None
        others = [s for s in splits if s not in (val, test)]
        train = ["train"] if "train" in self.split_counts else others or ["train"]
        lines = [
            "# Ultralytics YOLO dataset written by clarifai-archive-toolkit",
            f"# task: {'segment' if self.segment else 'detect'}",
            f"path: {yaml_string(str(self.job.output_path.resolve()))}",
        ]
        if len(train) == 1:
            lines.append(f"train: {yaml_string('images/' + train[0])}")
        else:
            lines.append("train:")
            lines += [f"  - {yaml_string('images/' + s)}" for s in train]
        if val is None:
            lines.append("# no val split: val is the training images")
        lines.append(f"val: {yaml_string('images/' + (val or train[0]))}")
        if test is not None:
            lines.append(f"test: {yaml_string('images/test')}")
        extra = [s for s in others if s not in train]
        if extra:
            lines.append("# other splits: " + ", ".join(f"images/{s}" for s in extra))
        names = self.classes.names()
        lines.append(f"nc: {len(names)}")
        lines.append("names:" if names else "names: {}")
        lines += [f"  {i}: {yaml_string(name)}" for i, name in enumerate(names)]
        self.write_file(self.root / "data.yaml", ("\n".join(lines) + "\n").encode("ascii"))
