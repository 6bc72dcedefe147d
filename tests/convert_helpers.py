"""Helpers for the convert tests: varied inputs, archives written by Clarifai's own classes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.messages import Input, Point

PROTOBUF_MIMETYPE = b"application/x.clarifai-data+protobuf"


def png_bytes(
    size: tuple[int, int] = (20, 10), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 240)).save(out, "JPEG")
    return out.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray((mask > 0).astype(np.uint8) * 255, mode="L").save(out, "PNG")
    return out.getvalue()


def varied_inputs(n: int, seed: int = 3) -> list[Input]:
    """Inputs of every kind with every shape of region, seeded."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        record = Input(id=f"in-{i:03d}", dataset_ids=["ds"])
        record.created_at.seconds = 1_700_000_000 + i
        record.created_at.nanos = 1000 * i
        data = record.data
        kind = i % 5
        if kind == 3:
            data.text.raw = f"text number {i} ✓"
        elif kind == 4:
            data.video.url = f"https://example.com/v{i}.mp4"
            data.video.video_info.width, data.video.video_info.height = 64, 48
            frame = data.frames.add(id=f"f{i}")
            frame.frame_info.index, frame.frame_info.time = 3, 1500
            r = frame.data.regions.add(id=f"fr{i}")
            box = r.region_info.bounding_box
            box.top_row, box.left_col, box.bottom_row, box.right_col = 0.1, 0.2, 0.3, 0.4
            r.data.concepts.add(id="car", name="Car", value=1.0)
        else:
            data.image.base64 = png_bytes((16 + i, 8 + i))
            data.image.image_info.width, data.image.image_info.height = 16 + i, 8 + i
            data.image.image_info.format = "PNG"
        data.concepts.add(id="cat", name="Cat", value=1.0, app_id="app")
        data.concepts.add(id="dog", name="Dog", value=0.0)
        data.metadata.update({"i": i, "tags": ["a", "b"], "nested": {"x": 0.5, "none": None}})
        vec = rng.standard_normal(8).astype(np.float32)
        data.embeddings.add(vector=vec.tolist(), num_dimensions=8)
        region = data.regions.add(id=f"r{i}", value=0.75)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = 0.0, 0.1, 0.5, 0.75
        region.data.concepts.add(id="cat", name="Cat", value=1.0)
        poly = data.regions.add(id=f"p{i}")
        for row, col in ((0.1, 0.0), (0.2, 0.3), (0.5, 0.4)):
            poly.region_info.polygon.points.add(row=row, col=col)
        poly.data.concepts.add(id="dog", name="Dog", value=1.0)
        point = data.regions.add(id=f"k{i}").region_info.point
        point.row, point.col, point.visibility = 0.4, 0.0, Point.VISIBLE
        data.regions[-1].data.concepts.add(id="nose", value=1.0)
        records.append(record)
    return records


def write_raw_archive(path: Path, batches: list[bytes], names: list[str] | None = None) -> Path:
    """A protobuf-flavour zip whose entries are the given serialized batches."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", PROTOBUF_MIMETYPE)
        for n, data in enumerate(batches):
            name = names[n] if names else f"all/batch-{n}_n1"
            zf.writestr(name, data)
    return path
