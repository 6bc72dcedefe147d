"""sample_data/ is exactly what the seeded script makes, on any machine.

The script draws, encodes and embeds with integer arithmetic (scripts/sample_images.py), so
the shipped bytes do not depend on the CPU, BLAS, pillow, zlib or libjpeg; the encoders are
checked here against pillow's decoders."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_sample_data_is_reproducible(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    made = sorted(p.name for p in tmp_path.glob("*.zip"))
    assert made == sorted(p.name for p in (ROOT / "sample_data").glob("*.zip"))
    for name in made:
        fresh = (tmp_path / name).read_bytes()
        shipped = (ROOT / "sample_data" / name).read_bytes()
        assert fresh == shipped, f"sample_data/{name} is stale: run scripts/make_sample_data.py"


def _sample_images():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sample_images
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return sample_images


def _scene():
    si = _sample_images()
    canvas = si.Canvas((301, 203), (135, 190, 235))
    canvas.rectangle((0, 130, 301, 203), (40, 110, 40))
    canvas.disc((50, 150), 20, (220, 30, 30))
    canvas.rectangle((100, 120, 140, 160), (40, 70, 200), outline=(10, 20, 90))
    canvas.triangle([(200.5, 60), (230, 150), (171, 150)], (20, 130, 50))
    return si, canvas


def test_png_encoder_gives_the_exact_pixels_back() -> None:
    si, canvas = _scene()
    noisy = np.random.default_rng(7).integers(0, 256, (37, 41, 3), dtype=np.uint8)
    for pixels in (canvas.pixels, noisy, np.zeros((300, 700, 3), np.uint8)):
        with Image.open(io.BytesIO(si.encode_png(pixels))) as img:
            assert img.mode == "RGB" and img.size == (pixels.shape[1], pixels.shape[0])
            np.testing.assert_array_equal(np.asarray(img), pixels)


def test_png_deflate_stream_is_read_by_zlib() -> None:
    si = _sample_images()
    for data in (b"", b"a", b"abcabc" * 100, b"\0" * 258, b"\0" * 259, b"\0" * 260, b"x" * 70000):
        assert zlib.decompress(si.deflate_fixed(data)) == data


def test_jpeg_encoder_is_read_by_pillow_close_to_the_pixels() -> None:
    si, canvas = _scene()
    with Image.open(io.BytesIO(si.encode_jpeg(canvas.pixels, quality=90))) as img:
        assert img.format == "JPEG" and img.mode == "RGB" and img.size == canvas.size
        error = np.abs(np.asarray(img).astype(int) - canvas.pixels)
    # Pillow's own encoder at quality 90 (4:4:4) is off by up to 42 at the sharpest edges.
    assert error.mean() < 1.5 and error.max() <= 64


def test_box_thumbnail_matches_pillow_box_resize() -> None:
    si, canvas = _scene()
    thumb = si.box_thumbnail(canvas.pixels[..., 1])
    exact = np.array([[total / divisor for total, divisor in row] for row in thumb])
    with Image.fromarray(canvas.pixels[..., 1]) as img:
        pillow = np.asarray(img.resize((8, 8), Image.Resampling.BOX), float)
    assert np.abs(exact - pillow).max() <= 1


def test_sample_embeddings_are_unit_float32_vectors() -> None:
    from toolkit.archive import ArchiveReader

    with ArchiveReader(ROOT / "sample_data" / "clarifai-data-protobuf.zip") as reader:
        vectors = [r.data.embeddings[0].vector for r in reader.iter_inputs() if r.data.embeddings]
    assert len(vectors) == 30
    for vector in vectors:
        as32 = np.asarray(vector, np.float32)
        assert np.array_equal(as32.astype(np.float64), np.asarray(vector, np.float64))
        assert abs(math.fsum(float(v) * float(v) for v in vector) - 1) < 1e-6
