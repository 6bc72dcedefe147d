"""Helpers for the web app tests (``from serve_helpers import ...``): an archive with
real images, regions of every shape, embeddings, and hostile strings."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from helpers import make_input
from PIL import Image, ImageDraw

from toolkit.archive import write_archive
from toolkit.messages import Input

#: Strings a page must never run: ids, names and metadata carry them.
HOSTILE = '<script>document.title="pwned"</script>'
HOSTILE_ID = f'{HOSTILE}<img src=x onerror="document.title=1">'
DIM = 8


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).rectangle([width // 4, height // 4, width // 2, height // 2], fill=0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def mask_png(width: int, height: int) -> bytes:
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).ellipse([2, 2, width // 2, height // 2], fill=255)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def vectors(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, DIM)).astype(np.float32)


def serve_records(n: int = 24) -> list[Input]:
    """``n`` images (cat/dog, every third with regions of each shape), one text input, one
    input whose id, concept name and metadata are hostile HTML."""
    vecs = vectors(n + 1)
    records = []
    for i in range(n):
        concept = "cat" if i % 2 else "dog"
        record = make_input(
            f"img-{i:03d}",
            concepts=[(concept, 1.0), ("person", 0.0)] if i % 4 == 0 else [(concept, 1.0)],
            image_bytes=png(64 + i, 48, (40 * (i % 6), 120, 200)),
            width=64 + i,
            height=48,
            vector=vecs[i].tolist(),
            metadata={"split": "train" if i < n // 2 else "val", "n": i},
            boxes=[(concept, 0.1, 0.1, 0.5, 0.6)] if i % 3 == 0 else [],
        )
        if i % 3 == 0:
            data = record.data
            poly = data.regions.add(id=f"img-{i:03d}-poly", value=1.0)
            for col, row in ((0.6, 0.6), (0.9, 0.6), (0.8, 0.9)):
                poly.region_info.polygon.points.add(col=col, row=row)
            poly.data.concepts.add(id="tree", name="Tree", value=1.0)
            point = data.regions.add(id=f"img-{i:03d}-pt", value=1.0)
            point.region_info.point.col, point.region_info.point.row = 0.3, 0.8
            point.data.concepts.add(id="sun", name="Sun", value=1.0)
            mask = data.regions.add(id=f"img-{i:03d}-mask", value=1.0)
            mask.region_info.mask.image.base64 = mask_png(32, 24)
            mask.data.concepts.add(id=concept, name=concept.title(), value=1.0)
        records.append(record)
    records.append(make_input("txt-000", text="a text input\nwith two lines", vector=vecs[n]))
    hostile = make_input(
        HOSTILE_ID,
        image_bytes=png(40, 40, (200, 30, 30)),
        metadata={"note": HOSTILE, HOSTILE: "key"},
        boxes=[("evil", 0.2, 0.2, 0.4, 0.4)],
    )
    hostile.data.concepts.add(id="evil", name=HOSTILE, value=1.0)
    hostile.data.regions[0].data.concepts[0].name = HOSTILE
    records.append(hostile)
    return records


def write_serve_archive(path: Path, n: int = 24, *, batch_size: int = 5) -> Path:
    write_archive(path, serve_records(n), batch_size=batch_size)
    return path
