"""sniff_extension: the real format from the bytes, never from a name."""

from __future__ import annotations

import io
import wave

import pytest
from PIL import Image

from toolkit.media import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    normalise_extension,
    sniff_extension,
)


def _pil(fmt: str, mode: str = "RGB", size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128).save(out, fmt)
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 80)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "ext"),
    [
        ("PNG", "png"),
        ("JPEG", "jpg"),
        ("GIF", "gif"),
        ("WEBP", "webp"),
        ("BMP", "bmp"),
        ("TIFF", "tiff"),
        ("ICO", "ico"),
    ],
)
def test_images_written_by_pillow(fmt: str, ext: str) -> None:
    assert sniff_extension(_pil(fmt)) == ext
    assert ext in IMAGE_EXTENSIONS


def test_big_endian_tiff() -> None:
    assert sniff_extension(b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 16) == "tiff"


def test_wav_written_by_the_wave_module() -> None:
    assert sniff_extension(_wav()) == "wav"


def _ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00isommp41" + b"\x00" * 8


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (_ftyp(b"isom"), "mp4"),
        (_ftyp(b"mp42"), "mp4"),
        (_ftyp(b"qt  "), "mov"),
        (_ftyp(b"M4A "), "m4a"),
        (_ftyp(b"heic"), "heic"),
        (_ftyp(b"avif"), "avif"),
        (_ftyp(b"3gp5"), "3gp"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "avi"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "flv"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00", "mpg"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 12, "mp3"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "aac"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "ogg"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"OpusHead", "opus"),
        (b"FORM\x00\x00\x00\x20AIFFCOMM", "aiff"),
        (b"#!AMR\n", "amr"),
        (b"%PDF-1.7\n%\xe2\xe3", "pdf"),
        (b"8BPS\x00\x01", "psd"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00", "jp2"),
        (b"<!DOCTYPE html><html><body>403</body></html>", "html"),
        (b"  <html><head>", "html"),
        (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "xml"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b'{"status": {"code": 11007}}', "json"),
        (b"A red ball rolls on the grass.\n", "txt"),
        ("Ünïcödé text, cut mid-char: é".encode()[:-1], "txt"),
        (b"\xef\xbb\xbfwith a BOM", "txt"),
    ],
)
def test_magic_bytes(head: bytes, ext: str) -> None:
    assert sniff_extension(head) == ext


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\x03\x04\x05\x06\x07",
        bytes(range(256)),
        b"BM" + b"\xff" * 30,  # "BM" alone is not a bitmap
        b"\xff\xd8",  # too short for a JPEG
        b"\xff\xe0\x00\x00",  # a sync-like word with reserved bits
    ],
)
def test_unknown_bytes_give_none(data: bytes) -> None:
    assert sniff_extension(data) is None


def test_only_the_head_is_read() -> None:
    data = _pil("PNG") + b"\x00" * 1_000_000
    assert sniff_extension(memoryview(data)) == "png"


def test_the_sets_do_not_overlap_for_stills() -> None:
    assert not IMAGE_EXTENSIONS & VIDEO_EXTENSIONS
    assert not IMAGE_EXTENSIONS & AUDIO_EXTENSIONS


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("JPEG", "jpg"),
        ("jpg", "jpg"),
        (".PNG", "png"),
        ("tif", "tiff"),
        ("mpeg", "mpg"),
        ("m4v", "mp4"),
        ("webp", "webp"),
        ("exe", None),
        ("", None),
        ("../png", None),
    ],
)
def test_normalise_extension(name: str, ext: str | None) -> None:
    assert normalise_extension(name) == ext
