"""Tell a file's real format from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

import codecs

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "normalise_extension",
    "sniff_extension",
]

#: Extensions :func:`sniff_extension` gives for still images.
IMAGE_EXTENSIONS = frozenset(
    {"png", "jpg", "gif", "webp", "bmp", "tiff", "ico", "heic", "avif", "jp2", "jxl", "svg", "psd"}
)
#: Extensions it gives for video containers.
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "webm", "mkv", "avi", "flv", "mpg", "ts", "3gp"})
#: Extensions it gives for audio.
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "flac", "ogg", "m4a", "aac", "aiff", "amr", "opus"})
#: Extensions it gives for text (a server's error page is one of these).
TEXT_EXTENSIONS = frozenset({"txt", "html", "xml", "json"})

# Brands of ISO base media files (ftyp box) that are not plain MP4 video.
_FTYP_BRANDS: dict[bytes, str] = {
    b"qt  ": "mov",
    b"M4A ": "m4a",
    b"M4B ": "m4a",
    b"M4P ": "m4a",
    b"F4A ": "m4a",
    b"heic": "heic",
    b"heix": "heic",
    b"heim": "heic",
    b"heis": "heic",
    b"hevc": "heic",
    b"hevx": "heic",
    b"mif1": "heic",
    b"msf1": "heic",
    b"avif": "avif",
    b"avis": "avif",
    b"3gp4": "3gp",
    b"3gp5": "3gp",
    b"3gp6": "3gp",
    b"3g2a": "3gp",
}

# Aliases seen in ``image_info.format``, ``video_info.video_format`` and URL paths.
_ALIASES: dict[str, str] = {
    "jpeg": "jpg",
    "jpe": "jpg",
    "jfif": "jpg",
    "tif": "tiff",
    "htm": "html",
    "mpeg": "mpg",
    "m4v": "mp4",
    "qt": "mov",
    "oga": "ogg",
    "text": "txt",
    "plain": "txt",
}
_KNOWN = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS | AUDIO_EXTENSIONS | TEXT_EXTENSIONS | {"pdf"}


def normalise_extension(name: str) -> str | None:
    """A known extension for a format name (``"JPEG"`` -> ``"jpg"``), or None.

    Example::

        normalise_extension("JPEG")  # "jpg"
    """
    ext = name.strip().lower().lstrip(".")
    ext = _ALIASES.get(ext, ext)
    return ext if ext in _KNOWN else None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _sniff_text(head: bytes) -> str | None:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return "txt"
    try:
        # Incremental: a multi-byte character cut at the end of the sample is still text.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if not text or any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text):
        return None
    lead = text.lstrip().lower()
    if lead.startswith(("<!doctype html", "<html", "<head", "<body")):
        return "html"
    if lead.startswith("<svg") or (lead.startswith("<?xml") and "<svg" in lead):
        return "svg"
    if lead.startswith("<?xml"):
        return "xml"
    if lead.startswith(("{", "[")):
        return "json"
    return "txt"


def sniff_extension(data: bytes) -> str | None:
    """The extension of the format ``data`` is in, read from its magic bytes, or None.

    Only the first few kilobytes are looked at, so a file's head is enough. Text
    (UTF-8 without control characters) gives ``txt``, or ``html``/``xml``/``json``/
    ``svg`` by its opening; empty or unrecognised bytes give None.

    Example::

        sniff_extension(Path("a.bin").read_bytes()[:4096])  # "png", "jpg", "mp4", ...
    """
    head = bytes(data[:4096])
    if not head:
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return "webp"
        if form == b"WAVE":
            return "wav"
        if form == b"AVI ":
            return "avi"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"BM") and len(head) >= 18 and head[6:10] == b"\x00\x00\x00\x00":
        dib = int.from_bytes(head[14:18], "little")
        if dib in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return "ico"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_BRANDS:
            return _FTYP_BRANDS[brand]
        if brand.startswith(b"3g"):
            return "3gp"
        return "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "mkv"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    if head.startswith(b"8BPS"):
        return "psd"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "opus" if b"OpusHead" in head[:64] else "ogg"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "mpg"
    if len(head) >= 377 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return "ts"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if len(head) >= 2 and head[0] == 0xFF and head[1] in (0xF1, 0xF9):
        return "aac"
    if _is_mpeg_audio_frame(head):
        return "mp3"
    return _sniff_text(head)
