"""Hostile and broken archives built in code, for the security and fuzz tests.

Every function returns bytes or writes a file; nothing here is random unless a seeded
``random.Random`` is passed.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from toolkit._wire import encode_field as field
from toolkit.archive import JSON_MIMETYPE, PROTOBUF_MIMETYPE

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def zip_bytes(
    entries: Iterable[tuple[str, bytes] | tuple[str, bytes, int]],
    *,
    mimetype: bytes | None = PROTOBUF_MIMETYPE,
) -> bytes:
    """A zip holding ``mimetype`` (unless None) then ``(name, data[, compress_type])``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if mimetype is not None:
            zf.writestr(zipfile.ZipInfo("mimetype", ZIP_DATE), mimetype)
        for entry in entries:
            name, data = entry[0], entry[1]
            method = entry[2] if len(entry) > 2 else zipfile.ZIP_STORED  # type: ignore[misc]
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = method
            zf.writestr(info, data)
    return buf.getvalue()


def write_zip(path: Path, entries: Sequence, *, mimetype: bytes | None = PROTOBUF_MIMETYPE) -> Path:
    path.write_bytes(zip_bytes(entries, mimetype=mimetype))
    return path


def json_mimetype() -> bytes:
    return JSON_MIMETYPE


# Offsets inside a central directory record (after its 4-byte signature PK\1\2).
_CD = {"flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<L")}
_CD.update({"compress_size": (20, "<L"), "file_size": (24, "<L"), "offset": (42, "<L")})


def central_records(data: bytes) -> list[tuple[int, str]]:
    """``(position, name)`` of every central directory record."""
    found = []
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        found.append((pos, data[pos + 46 : pos + 46 + name_len].decode("utf-8", "replace")))
        pos = data.find(b"PK\x01\x02", pos + 46)
    return found


def patch_central(data: bytes, name: str, **values: int) -> bytes:
    """Rewrite fields (flags, method, crc, compress_size, file_size, offset) of ``name``'s
    central directory record, leaving the local header and the data as they are."""
    out = bytearray(data)
    for pos, entry_name in central_records(data):
        if entry_name == name:
            for key, value in values.items():
                offset, fmt = _CD[key]
                struct.pack_into(fmt, out, pos + offset, value)
            return bytes(out)
    raise KeyError(name)


def patch_eocd_count(data: bytes, count: int) -> bytes:
    """Make the end-of-central-directory record declare ``count`` entries."""
    out = bytearray(data)
    pos = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", out, pos + 8, count, count)
    return bytes(out)


def rezip(data: bytes, transform) -> bytes:
    """Re-zip an archive with each batch entry's bytes passed through ``transform(name,
    bytes)`` (CRCs are recomputed, so the parser, not zipfile, sees the change)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename != "mimetype" and not info.is_dir():
                body = transform(info.filename, body)
            new = zipfile.ZipInfo(info.filename, ZIP_DATE)
            new.compress_type = info.compress_type
            out.writestr(new, body)
    return buf.getvalue()


# -- protobuf wire pieces ------------------------------------------------------------


def deep_metadata_batch(depth: int, *, kind: str = "list", input_id: str = "deep") -> bytes:
    """An InputBatch whose one input has metadata nested ``depth`` levels (1 = flat)."""
    value = b"\x11" + struct.pack("<d", 1.0)  # Value{number_value: 1.0}
    for _ in range(depth - 1):
        if kind == "list":
            value = field(6, field(1, value))  # Value{list_value{values: value}}
        else:
            value = field(5, field(1, field(1, b"k") + field(2, value)))
    metadata = field(1, field(1, b"a") + field(2, value))  # Struct{fields{"a": value}}
    record = field(1, input_id.encode()) + field(2, field(5, metadata))
    return field(1, record)


def deep_metadata_json(depth: int, *, kind: str = "list", input_id: str = "deep") -> bytes:
    """The same as :func:`deep_metadata_batch`, in the JSON flavour."""
    value = "1"
    for _ in range(depth - 1):
        value = f"[{value}]" if kind == "list" else f'{{"k":{value}}}'
    return f'{{"inputs":[{{"id":"{input_id}","data":{{"metadata":{{"a":{value}}}}}}}]}}'.encode()
