"""Make the archives in sample_data/ (seeded, so every run gives the same bytes).

- ``clarifai-data-protobuf.zip``: 30 drawn scenes (balls, boxes, trees, a sun) as image
  bytes, input-level concepts (one negative), boxes, polygons and a point that match
  the drawings, metadata, a pixel-derived 256-d embedding per image, and one text input.
  img-0008 is a brightened copy of img-0007, img-0018 of img-0017 (near-duplicates).
- ``clarifai-data-protobuf-hosted.zip``: the same inputs with hosted URLs instead of bytes.
- ``clarifai-data-json.zip``: the first archive in the Clarifai-Data-JSON flavour.

Every byte is the same on every machine: the scenes are drawn, encoded and reduced to
embeddings by ``scripts/sample_images.py`` with integer arithmetic, and the one step in
floating point (normalising an embedding) adds its squares exactly (``math.fsum``) and
rounds once to float32. Nothing here calls BLAS or depends on pillow's, zlib's or
libjpeg's version.

Usage: python scripts/make_sample_data.py [--out sample_data]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import struct
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sample_images import Canvas, box_thumbnail, encode_jpeg, encode_png, grey  # noqa: E402

from toolkit.archive import write_archive  # noqa: E402
from toolkit.messages import Input  # noqa: E402

SEED = 20261127
CONCEPT_NAMES = {
    "ball": "Ball",
    "box": "Box",
    "tree": "Tree",
    "sun": "Sun",
    "person": "Person",
    "outdoor": "Outdoor",
    "night": "Night",
}
SIZES = [(320, 240), (256, 256), (300, 200)]
EMBEDDING_DIM = 256
BASE_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z


def _median(values: list[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return (ordered[middle - 1] + ordered[middle]) / 2 if len(ordered) % 2 == 0 else ordered[middle]


def _float32(value: float) -> float:
    """``value`` rounded to the nearest float32 (round half to even), as a Python float."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def embedding(canvas: Canvas) -> list[float]:
    """A 256-d vector from the pixels: an 8x8 colour thumbnail (192) and a grey one (64).

    Each thumbnail row has its median taken away, which removes the horizontal bands of sky
    and grass and the overall brightness: what is left is where the objects are and their
    colours, so a brightened copy of a scene lands next to the original. The thumbnails,
    medians and differences are exact fractions; the norm is the square root of their
    exact sum of squares; each component is rounded once to float64 and once to float32.
    """
    pixels = canvas.pixels
    planes = [box_thumbnail(pixels[..., c]) for c in range(3)] + [box_thumbnail(grey(pixels))]
    rows: list[list[list[Fraction]]] = [
        [[Fraction(total, divisor * 255) for total, divisor in row] for row in plane]
        for plane in planes
    ]
    centred = [[[v - _median(row) for v in row] for row in plane] for plane in rows]
    r, g, b, luma = centred
    # The colour thumbnail is laid out pixel by pixel (r, g, b), then the grey one.
    vector = [
        r[y][x] if c == 0 else g[y][x] if c == 1 else b[y][x]
        for y in range(8)
        for x in range(8)
        for c in range(3)
    ]
    vector += [luma[y][x] for y in range(8) for x in range(8)]
    squares = sum(v * v for v in vector)
    norm = max(math.sqrt(float(squares)), 1e-12)
    return [_float32(float(v) / norm) for v in vector]


def _draw_scene(rng: random.Random, index: int, size: tuple[int, int], night: bool) -> tuple:
    """Draw one scene; return the canvas and its objects as (concept, kind, geometry)."""
    w, h = size
    sky = (20, 24, 60) if night else (135 + rng.randint(-20, 20), 190, 235)
    grass = (40, 110 + rng.randint(-20, 20), 40)
    canvas = Canvas(size, sky)
    horizon = int(h * rng.uniform(0.55, 0.7))
    canvas.rectangle((0, horizon, w, h), grass)
    objects = []
    if not night and rng.random() < 0.5:
        cx, cy, r = rng.randint(30, w - 30), rng.randint(15, horizon // 2), 14
        canvas.disc((cx, cy), r, (250, 220, 40))
        objects.append(("sun", "point", (cx, cy)))
    kinds = ["ball", "box", "tree"]
    count = 1 + index % 3
    for _ in range(count):
        kind = rng.choice(kinds)
        if kind == "ball":
            r = rng.randint(12, 26)
            cx, cy = rng.randint(r, w - r), rng.randint(horizon, h - r)
            canvas.disc((cx, cy), r, (220, 30, 30))
            objects.append(("ball", "box", (cx - r, cy - r, cx + r, cy + r)))
        elif kind == "box":
            s = rng.randint(20, 45)
            x0, y0 = rng.randint(0, w - s), rng.randint(horizon - s // 2, h - s)
            canvas.rectangle((x0, y0, x0 + s, y0 + s), (40, 70, 200), outline=(10, 20, 90))
            objects.append(("box", "box", (x0, y0, x0 + s, y0 + s)))
        else:
            tw, th = rng.randint(30, 60), rng.randint(50, 90)
            x0 = rng.randint(0, w - tw)
            base = rng.randint(horizon, h - 5)
            points = [(x0 + tw / 2, base - th), (x0 + tw, base), (x0, base)]
            canvas.triangle(points, (20, 130, 50))
            objects.append(("tree", "polygon", points))
    return canvas, objects


def _encode(canvas: Canvas, fmt: str) -> bytes:
    return encode_jpeg(canvas.pixels, quality=90) if fmt == "JPEG" else encode_png(canvas.pixels)


def make_inputs(count: int = 30) -> list[Input]:
    """The sample inputs, the same on every run."""
    rng = random.Random(SEED)
    records: list[Input] = []
    scenes: list[tuple[Canvas, list]] = []
    for index in range(count):
        size = SIZES[index % len(SIZES)]
        night = index % 10 == 9
        if index in (7, 17):
            # A near-duplicate of the previous scene: same drawing, slightly brighter.
            prev_img, objects = scenes[-1]
            img = prev_img.brightened(6)
            size = img.size
        else:
            img, objects = _draw_scene(rng, index, size, night)
        scenes.append((img, objects))
        fmt = "JPEG" if index % 5 == 4 else "PNG"
        record = Input(id=f"img-{index + 1:04d}")
        record.created_at.seconds = BASE_TIME + index * 3600
        data = record.data
        data.image.base64 = _encode(img, fmt)
        if index % 6 != 5:  # some inputs leave image_info out: read the size from the bytes
            data.image.image_info.width, data.image.image_info.height = size
            data.image.image_info.format = fmt
            data.image.image_info.color_mode = "RGB"
        present = sorted({concept for concept, _kind, _geo in objects})
        for concept in present + ["outdoor"] + (["night"] if night else []):
            data.concepts.add(id=concept, name=CONCEPT_NAMES[concept], value=1.0)
        if index % 4 == 0:
            data.concepts.add(id="person", name=CONCEPT_NAMES["person"], value=0.0)
        w, h = size
        for n, (concept, kind, geo) in enumerate(objects):
            region = data.regions.add(id=f"{record.id}-r{n}", value=1.0)
            info = region.region_info
            if kind == "box":
                x0, y0, x1, y1 = geo
                box = info.bounding_box
                box.left_col, box.top_row = max(0.0, x0 / w), max(0.0, y0 / h)
                box.right_col, box.bottom_row = min(1.0, x1 / w), min(1.0, y1 / h)
            elif kind == "polygon":
                for x, y in geo:
                    info.polygon.points.add(row=y / h, col=x / w)
            else:
                info.point.col, info.point.row = geo[0] / w, geo[1] / h
                info.point.visibility = info.point.VISIBLE
            region.data.concepts.add(id=concept, name=CONCEPT_NAMES[concept], value=1.0)
        data.metadata.update(
            {
                "source": "sample_data",
                "scene": index + 1,
                "split_hint": "val" if index % 5 == 0 else "train",
                "camera": {"model": "pillow", "iso": 100 * (1 + index % 4)},
                "tags": ["drawn", "night" if night else "day"],
            }
        )
        data.embeddings.add(vector=embedding(img), num_dimensions=EMBEDDING_DIM)
        records.append(record)
    text = Input(id="txt-0001")
    text.created_at.seconds = BASE_TIME + count * 3600
    text.data.text.raw = "A red ball rolls on the grass next to a small green tree."
    text.data.concepts.add(id="ball", name=CONCEPT_NAMES["ball"], value=1.0)
    text.data.concepts.add(id="tree", name=CONCEPT_NAMES["tree"], value=1.0)
    text.data.metadata.update({"source": "sample_data", "language": "en"})
    records.append(text)
    return records


def hosted_copy(records: list[Input]) -> list[Input]:
    """The same inputs with hosted URLs in place of image bytes."""
    out = []
    for record in records:
        copy = Input()
        copy.CopyFrom(record)
        if copy.data.HasField("image"):
            digest = hashlib.sha1(copy.data.image.base64).hexdigest()
            copy.data.image.ClearField("base64")
            hosted = copy.data.image.hosted
            hosted.prefix = "https://data.clarifai.com"
            hosted.suffix = f"users/sample/apps/demo/inputs/image/{digest}"
            hosted.sizes.extend(["orig", "tiny", "small", "large"])
            hosted.crossorigin = "use-credentials"
        out.append(copy)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    records = make_inputs()
    write_archive(args.out / "clarifai-data-protobuf.zip", records, batch_size=8)
    write_archive(
        args.out / "clarifai-data-protobuf-hosted.zip", hosted_copy(records), batch_size=8
    )
    write_archive(args.out / "clarifai-data-json.zip", records, batch_size=8, flavour="json")
    for name in sorted(p.name for p in args.out.glob("*.zip")):
        print(args.out / name)


if __name__ == "__main__":
    main()
