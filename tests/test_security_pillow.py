"""Images between pillow's warning (89 M pixels) and the default limit (179 M): no warning.

Every module that opens images goes through :mod:`toolkit.safety`, so pillow's
DecompressionBombWarning (an error here: warnings are errors in the test suite) never
shows, and ``--max-image-pixels`` alone decides. A PNG header announcing 12,000 x 12,000
pixels (144 M) is enough: pillow reads only the header.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fuzz.harness import png_header
from media_helpers import embedded_input
from PIL import Image

from toolkit.convert.coco import _decode_mask
from toolkit.convert.coco import _image_size as coco_image_size
from toolkit.errors import MediaError
from toolkit.index.sheet import _decode
from toolkit.limits import DEFAULT_LIMITS, Limits
from toolkit.media import MediaSink
from toolkit.media._sink import _pillow_format
from toolkit.metrics import _image_size as metrics_image_size
from toolkit.safety import image_size, open_image

SIDE = 12_000  # 144 M pixels: over pillow's 89 M warning, under the default 179 M limit
HEADER = png_header(SIDE, SIDE)
LOW = Limits(max_image_pixels=100_000_000)


def test_default_limit_is_above_pillows_warning() -> None:
    assert Image.MAX_IMAGE_PIXELS < SIDE * SIDE <= DEFAULT_LIMITS.max_image_pixels


class TestSafety:
    def test_path_and_file_and_no_limit(self, tmp_path: Path) -> None:
        path = tmp_path / "big.png"
        path.write_bytes(HEADER)
        assert image_size(path) == (SIDE, SIDE)
        with path.open("rb") as fh:
            assert image_size(fh) == (SIDE, SIDE)
        huge = png_header(50_000, 50_000)  # 2.5 G pixels: pillow alone would refuse it
        with open_image(huge, max_pixels=None) as image:
            assert image.size == (50_000, 50_000) and image.format == "PNG"
        assert Image.MAX_IMAGE_PIXELS == 89_478_485  # restored


class TestMetrics:
    def test_size_from_header(self) -> None:
        assert metrics_image_size(HEADER) == (SIDE, SIDE)

    def test_over_the_default_limit_and_unreadable_are_zero(self) -> None:
        assert metrics_image_size(png_header(20_000, 20_000)) == (0, 0)
        assert metrics_image_size(b"not an image") == (0, 0)


class TestSheet:
    def test_within_the_limit_is_decoded_not_refused(self) -> None:
        # the header holds no real pixels: decoding fails, but not as "too large"
        assert _decode(HEADER, 64, DEFAULT_LIMITS) == (None, "unreadable image")

    def test_over_the_limit(self) -> None:
        assert _decode(HEADER, 64, LOW) == (None, "image too large")


class TestCoco:
    def test_size_from_header(self, tmp_path: Path) -> None:
        limit = DEFAULT_LIMITS.max_image_pixels
        assert coco_image_size(HEADER, limit) == (SIDE, SIDE)
        path = tmp_path / "big.png"
        path.write_bytes(HEADER)
        assert coco_image_size(path, limit) == (SIDE, SIDE)
        assert coco_image_size(HEADER, LOW.max_image_pixels) is None  # reported: no size
        assert coco_image_size(b"junk", limit) is None

    def test_mask_over_the_limit_has_no_geometry(self) -> None:
        assert _decode_mask(HEADER, 10, 10, LOW.max_image_pixels) is None
        assert _decode_mask(HEADER, 10, 10, DEFAULT_LIMITS.max_image_pixels) is None


class TestMediaSink:
    def test_format_of_a_big_header(self) -> None:
        assert _pillow_format(io.BytesIO(HEADER)) == "png"
        assert _pillow_format(io.BytesIO(b"junk")) is None

    @pytest.mark.parametrize(
        ("limits", "reason"),
        [(LOW, "image too large: 12000x12000 pixels"), (DEFAULT_LIMITS, "not a readable image")],
    )
    def test_png_conversion_records_the_reason(self, tmp_path: Path, limits, reason) -> None:
        with MediaSink(tmp_path, mode="embedded", png=True, limits=limits) as sink:
            sink.submit(embedded_input("big", HEADER))
            report = sink.close()
        assert report.written == 0 and reason in report.failed["big"]


class TestCatalogCover:
    def test_cover_over_the_limit(self, tmp_path: Path) -> None:
        from toolkit.catalog.datasets import _prepare_cover

        path = tmp_path / "big.png"
        path.write_bytes(HEADER)
        with pytest.raises(MediaError, match="image too large.*give a PNG or JPEG file"):
            _prepare_cover(path, tmp_path, LOW)
        # within the default limit: opened with no warning (its pixels are a broken stub)
        try:
            _prepare_cover(path, tmp_path, DEFAULT_LIMITS)
        except MediaError as exc:
            assert "too large" not in str(exc)
