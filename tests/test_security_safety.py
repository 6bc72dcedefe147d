"""toolkit.safety: the image opener, metadata depth, object counts and key redaction."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
from fuzz.harness import png_bomb, png_header
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from PIL import Image

from toolkit.errors import LimitError, MediaError
from toolkit.messages import InputBatch
from toolkit.safety import (
    REDACTED,
    check_metadata_depth,
    count_json_objects,
    count_wire_objects,
    image_size,
    metadata_depth,
    open_image,
    redact,
    register_secret,
)


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(buf, format="PNG")
    return buf.getvalue()


class TestOpenImage:
    def test_within_the_limit(self) -> None:
        with open_image(_png(100, 100), max_pixels=10_000) as image:
            image.load()
            assert image.size == (100, 100)

    def test_one_pixel_over_the_limit(self) -> None:
        with pytest.raises(
            LimitError, match=r"over the limit of 9999 pixels.*limits.max_image_pixels"
        ):
            open_image(_png(100, 100), max_pixels=9_999, where="img-1")

    def test_a_real_bomb_is_refused_before_decoding(self) -> None:
        """400 M pixels in ~50 KB: refused from the header, at the default limit."""
        bomb = png_bomb()
        assert len(bomb) < 200_000
        with pytest.raises(LimitError, match="400000000 pixels"):
            open_image(bomb, where="bomb")

    @pytest.mark.parametrize("pixels", [100_000_000, 150_000_000])
    def test_between_pillows_warning_and_error_thresholds(self, pixels) -> None:
        """Pillow warns from 89 M pixels; here the limit alone decides, with no warning."""
        side = int(pixels**0.5)
        header = png_header(side, side)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert image_size(header, max_pixels=side * side) == (side, side)
            with pytest.raises(LimitError):
                image_size(header, max_pixels=side * side - 1)

    def test_limit_above_pillows_own(self) -> None:
        """A trusted, raised limit lets through what pillow alone would refuse."""
        header = png_header(20_000, 20_000)
        assert image_size(header, max_pixels=500_000_000) == (20_000, 20_000)
        assert Image.MAX_IMAGE_PIXELS == 89_478_485  # restored

    @pytest.mark.parametrize(
        "data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n", png_header(0, 0), b"GIF89a\x00"]
    )
    def test_garbage_is_a_media_error(self, data) -> None:
        with pytest.raises(MediaError, match="not a readable image"):
            open_image(data, where="img-9")

    def test_truncated_pixels_fail_on_load(self) -> None:
        data = _png(50, 50)[:-40]
        with open_image(data) as image, pytest.raises(OSError):
            image.load()


class TestMetadataDepth:
    @pytest.mark.parametrize(
        ("value", "depth"),
        [
            ({}, 1),
            ({"a": 1}, 1),
            ({"a": {"b": 1}}, 2),
            ({"a": [1, 2]}, 2),
            ({"a": [[{"b": [1]}]]}, 5),
            ({"a": {"b": 1}, "c": [[[[1]]]]}, 5),
        ],
    )
    def test_depth(self, value, depth) -> None:
        struct = Struct()
        struct.update(value)
        assert metadata_depth(struct) == depth

    def test_check(self) -> None:
        struct = Struct()
        struct.update({"a": [[[[[[[[1]]]]]]]]})
        check_metadata_depth(struct, max_depth=9)
        with pytest.raises(
            LimitError, match="metadata nests 9 levels deep.*limits.max_metadata_depth"
        ):
            check_metadata_depth(struct, max_depth=8, where="input 'x'")

    def test_small_structs_are_not_walked(self, monkeypatch) -> None:
        import toolkit.safety as safety

        def fail(struct):
            raise AssertionError("walked")

        monkeypatch.setattr(safety, "metadata_depth", fail)
        struct = Struct()
        struct.update({"a": 1, "b": "x"})
        check_metadata_depth(struct, max_depth=64)


def _reference_count(message: Message) -> int:
    """Fields a message has on the wire, counted from the parsed message."""
    total = 0
    for field, value in message.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for key in value:
                total += 1 + (1 if key else 0)
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    total += 1 + _reference_count(value[key])
                else:
                    total += 1
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            total += sum(1 + _reference_count(item) for item in items)
        elif field.is_repeated:
            packed = field.type not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
            total += 1 if packed else len(value)
        else:
            total += 1
    return total


class TestObjectCounts:
    def test_matches_the_parsed_messages(self, sample_archive, sample_json_archive) -> None:
        for path in (sample_archive,):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name == "mimetype":
                        continue
                    data = zf.read(name)
                    batch = InputBatch.FromString(data)
                    expected = _reference_count(batch)
                    assert count_wire_objects(data, InputBatch.DESCRIPTOR, stop_after=10**9) == (
                        expected
                    )

    def test_stops_early(self) -> None:
        data = b"\x0a\x00" * 1000
        assert count_wire_objects(data, InputBatch.DESCRIPTOR, stop_after=10) == 11

    @pytest.mark.parametrize(
        "data",
        [b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x0a", b"\xff" * 20, b"\x0b\x0c"],
    )
    def test_garbage_ends_quietly(self, data) -> None:
        assert count_wire_objects(data, InputBatch.DESCRIPTOR, stop_after=100) >= 0

    def test_json_bound(self) -> None:
        assert count_json_objects(b'{"inputs":[{},{},{}]}') == 7
        assert count_json_objects(b"") == 0


class TestRedact:
    def test_environment_key(self, monkeypatch) -> None:
        monkeypatch.setenv("CLARIFAI_PAT", "abcd-secret-1234")
        assert redact("key abcd-secret-1234 refused") == f"key {REDACTED} refused"

    def test_registered_key(self, monkeypatch) -> None:
        monkeypatch.delenv("CLARIFAI_PAT", raising=False)
        register_secret("zz-registered-zz")
        register_secret(None)
        register_secret("ab")  # too short to be a key: never redacted
        assert redact("a zz-registered-zz b ab") == f"a {REDACTED} b ab"
