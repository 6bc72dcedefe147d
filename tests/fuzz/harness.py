"""The fuzz harness: base archives, mutators, the command table and a runner.

Each command is one row of :data:`COMMANDS`: a command line template and an invariant
checked when the command succeeds. A case runs one row on one (mutated) archive
in-process with click's ``CliRunner`` and is classified as

- ``ok``: exit 0 and the invariant holds;
- ``error``: exit 1 or 2 with exactly one ``Error:`` line, no traceback, and nothing
  left behind in the case's folder (no partial output, no temporary file);
- ``crash``: an exception escaped, a traceback was printed, another exit code, a
  malformed error, or a broken invariant;
- ``hang``: the case ran past its time bound (a timer interrupts it);
- ``leak``: a failed run left files behind, or a file appeared outside the case folder.

Placeholders in templates: ``{archive}`` (the mutated archive), ``{other}`` (a second,
valid archive with other ids), ``{out}`` (an output file path), ``{out_dir}`` (an output
folder path), ``{id}`` (an input id of the base archive), ``{home}`` (catalog folder).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import struct
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from toolkit.archive import ArchiveReader, ArchiveWriter
from toolkit.cli import cli
from toolkit.errors import ToolkitError
from toolkit.messages import Input

OUTCOMES = ("ok", "error", "crash", "hang", "leak")

# -- base archives -----------------------------------------------------------------


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return buf.getvalue()


def base_records(prefix: str = "in", count: int = 6, *, seed: int = 7) -> list[Input]:
    """A few inputs using every modelled field: images, text, video frames, concepts,
    a negative label, boxes, polygons, points, a mask, metadata and embeddings."""
    rng = random.Random(seed)
    records = []
    for n in range(count):
        record = Input(id=f"{prefix}-{n:03d}")
        data = record.data
        if n % 5 == 4:
            data.text.raw = f"text number {n} \u00e9\u4e2d"
        elif n % 5 == 3:
            frame = data.frames.add()
            frame.frame_info.index = 1
            frame.frame_info.time = 40
            region = frame.data.regions.add(id=f"{prefix}-{n}-fr")
            region.region_info.bounding_box.top_row = 0.1
            region.region_info.bounding_box.bottom_row = 0.5
            region.region_info.bounding_box.right_col = 0.5
            region.data.concepts.add(id="ball", name="Ball", value=1.0)
            data.video.base64 = b"\x00\x00\x00\x18ftypmp42" + bytes(16)
        else:
            width, height = 8 + n, 6 + n
            data.image.base64 = _png(width, height, (rng.randrange(256), 40, 90))
            data.image.image_info.width = width
            data.image.image_info.height = height
        data.concepts.add(id="cat", name="Cat", value=1.0)
        if n % 2:
            data.concepts.add(id="dog", name="Dog", value=0.0)
        box = data.regions.add(id=f"{prefix}-{n}-r0", value=1.0)
        b = box.region_info.bounding_box
        b.top_row, b.left_col, b.bottom_row, b.right_col = 0.0, 0.1, 0.6, 0.7
        box.data.concepts.add(id="ball", name="Ball", value=1.0)
        if n % 3 == 0:
            poly = data.regions.add(id=f"{prefix}-{n}-r1")
            for row, col in ((0.1, 0.1), (0.2, 0.8), (0.9, 0.4)):
                poly.region_info.polygon.points.add(row=row, col=col)
            poly.data.concepts.add(id="tree", name="Tree", value=1.0)
            point = data.regions.add(id=f"{prefix}-{n}-r2")
            point.region_info.point.row, point.region_info.point.col = 0.5, 0.0
            point.data.concepts.add(id="sun", name="Sun", value=1.0)
        if n % 4 == 1:
            mask = data.regions.add(id=f"{prefix}-{n}-r3")
            mask.region_info.mask.image.base64 = _png(4, 4, (255, 255, 255))
            mask.data.concepts.add(id="cat", name="Cat", value=1.0)
        data.metadata.update({"n": n, "tags": ["a", "b"], "nested": {"k": [1, {"x": None}]}})
        vector = [rng.uniform(-1, 1) for _ in range(8)]
        data.embeddings.add(vector=vector, num_dimensions=8)
        records.append(record)
    return records


@dataclass(frozen=True)
class BaseArchive:
    """One valid archive the mutators start from."""

    name: str
    flavour: str
    data: bytes
    ids: tuple[str, ...]


def _archive_bytes(records: Sequence[Input], **options: Any) -> bytes:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-base-{os.getpid()}-{id(records)}.zip"
    try:
        with ArchiveWriter(path, **options) as writer:
            writer.add_many(records)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def base_archives() -> list[BaseArchive]:
    """Protobuf (stored and deflated) and JSON archives of :func:`base_records`."""
    records = base_records()
    ids = tuple(r.id for r in records)
    return [
        BaseArchive("pb-stored", "protobuf", _archive_bytes(records, batch_size=2), ids),
        BaseArchive(
            "pb-deflated", "protobuf", _archive_bytes(records, batch_size=4, compress=True), ids
        ),
        BaseArchive("json", "json", _archive_bytes(records, batch_size=3, flavour="json"), ids),
    ]


def other_archive_bytes() -> bytes:
    """A valid archive with different ids (for two-archive commands such as merge)."""
    return _archive_bytes(base_records("other", 3, seed=11), batch_size=2)


# -- mutators ------------------------------------------------------------------------

Mutator = Callable[[random.Random, bytes], bytes]

_INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff\x0f",
    b"\x0a\xff\xff\xff\xff\x07",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"../",
    b"/",
    b"\\",
    b"\x00" * 16,
]
_JSON_TOKENS = [
    b"null",
    b"true",
    b"0",
    b"-1",
    b"1e999",
    b"-0.0",
    b"18446744073709551616",
    b"9" * 5000,
    b'"NaN"',
    b'"Infinity"',
    b'""',
    b'"\\ud800"',
    b'"../../x"',
    b'"/abs"',
    b'"a\\u0000b"',
    b"[]",
    b"{}",
    b"[" * 200 + b"]" * 200,
    b'{"inputs":[]}',
    b'"' + b"A" * 300 + b'"',
]


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    if not out:
        return bytes(out)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(out))
        out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def set_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    if not out:
        return rng.choice(_INTERESTING)
    for _ in range(rng.randint(1, 4)):
        token = rng.choice(_INTERESTING)
        pos = rng.randrange(len(out))
        out[pos : pos + len(token)] = token
    return bytes(out)


def cut(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return b""
    if rng.random() < 0.5:
        return data[: rng.randrange(len(data))]
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randint(1, max(1, len(data) // 4)))
    return data[:start] + data[end:]


def splice(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    pos = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        start = rng.randrange(len(data))
        piece = data[start : start + rng.randint(1, 256)]
        if rng.random() < 0.2:
            piece = piece * rng.randint(2, 50)
    else:
        piece = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return data[:pos] + piece + data[pos:]


def json_tokens(rng: random.Random, data: bytes) -> bytes:
    """Replace a JSON scalar, string or bracket with a hostile token."""
    out = data
    for _ in range(rng.randint(1, 3)):
        if not out:
            return rng.choice(_JSON_TOKENS)
        pos = rng.randrange(len(out))
        end = pos
        while end < len(out) and out[end : end + 1] not in (b",", b"}", b"]", b":"):
            end += 1
        out = out[:pos] + rng.choice(_JSON_TOKENS) + out[end:]
    return out


BYTE_MUTATORS: dict[str, Mutator] = {
    "flip": flip_bits,
    "set": set_bytes,
    "cut": cut,
    "splice": splice,
}


# -- non-minimal varints --------------------------------------------------------------


def _varint(value: int, size: int) -> bytes:
    """``value`` as a varint of exactly ``size`` bytes (padded with 0x80 groups when
    ``size`` is more than the minimal length; 11 bytes and more are never valid)."""
    out = bytearray()
    for n in range(size):
        group = value & 0x7F
        value >>= 7
        out.append(group | (0x80 if n < size - 1 else 0))
    return bytes(out)


def _minimal_size(value: int) -> int:
    return max(1, -(-value.bit_length() // 7))


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _padded(rng: random.Random, value: int, chance: float, limit: int = 5) -> bytes:
    """``value`` minimal, or (with ``chance``) longer: mostly up to ``limit`` bytes (what
    protobuf takes: 5 for tags and lengths, 10 for values), sometimes up to 11."""
    low = _minimal_size(value)
    if rng.random() >= chance or low >= 11:
        return _varint(value, low)
    high = limit if rng.random() < 0.8 and low < limit else 11
    return _varint(value, rng.randint(low + 1, high))


def reencode_varints(
    rng: random.Random, data: bytes, descriptor: Any = None, *, chance: float = 0.05
) -> bytes:
    """The message ``data`` (an ``InputBatch`` by default) written again with some tags,
    lengths and varint values in non-minimal form, sub-messages included (their
    lengths recomputed). Bytes that do not parse as the message come back unchanged."""
    from google.protobuf.descriptor import FieldDescriptor

    from toolkit.messages import InputBatch

    descriptor = descriptor or InputBatch.DESCRIPTOR
    out = bytearray()
    pos = 0
    try:
        while pos < len(data):
            tag, pos = _read_varint(data, pos)
            number, wire = tag >> 3, tag & 7
            out += _padded(rng, tag, chance)
            if wire == 0:
                start = pos
                value, pos = _read_varint(data, pos)
                # Values may take up to 10 bytes; the 10th may carry bits past the 64th,
                # which protobuf drops.
                if rng.random() < chance and pos - start < 10:
                    padded = bytearray(_padded(rng, value, 1.0, 10))
                    size = len(padded)
                    if size == 10 and rng.random() < 0.5:
                        padded[9] |= rng.randrange(0x80)
                    out += padded
                else:
                    out += data[start:pos]
            elif wire == 1:
                out += data[pos : pos + 8]
                pos += 8
            elif wire == 5:
                out += data[pos : pos + 4]
                pos += 4
            elif wire == 2:
                length, pos = _read_varint(data, pos)
                body = data[pos : pos + length]
                if len(body) != length:
                    return data
                pos += length
                field = descriptor.fields_by_number.get(number) if descriptor else None
                if field is not None and field.type == FieldDescriptor.TYPE_MESSAGE:
                    body = reencode_varints(rng, body, field.message_type, chance=chance)
                out += _padded(rng, len(body), chance) + body
            else:
                return data
    except IndexError:
        return data
    return bytes(out)


def nonminimal_varints(rng: random.Random, data: bytes) -> bytes:
    """A batch entry whose tags, lengths and values are partly written non-minimally."""
    return reencode_varints(rng, data, chance=rng.choice([0.02, 0.1, 0.3]))


def _zip_entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _rezip(entries: Sequence[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are wanted here
        with zipfile.ZipFile(buf, "w") as zf:
            for name, body, method in entries:
                info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                zf.writestr(info, body)
    return buf.getvalue()


def mutate_entries(rng: random.Random, data: bytes, *, json_flavour: bool) -> bytes:
    """Mutate batch entries and re-zip them with valid CRCs, so the parsers see garbage."""
    entries = [(i.filename, body, i.compress_type) for i, body in _zip_entries(data)]
    batch_positions = [n for n, (name, _, _) in enumerate(entries) if name != "mimetype"]
    action = rng.random()
    if action < 0.1 and batch_positions:  # drop, duplicate or reorder whole entries
        pos = rng.choice(batch_positions)
        choice = rng.randrange(3)
        if choice == 0:
            del entries[pos]
        elif choice == 1:
            entries.insert(pos, entries[pos])
        else:
            rng.shuffle(entries)
    elif action < 0.2:  # a hostile entry name or mimetype
        pos = rng.choice(batch_positions) if batch_positions else 0
        name, body, method = entries[pos]
        new_name = rng.choice(
            [
                "../../escape_n1",
                "/abs/path_n1",
                "all/" + "x" * 300 + "_n1",
                "all/a\\..\\..\\b_n1",
                "all/sub/dir/batch_n99999999999999999999",
                "all/",
                "mimetype",
                "ALL/Input-Batch_n1",
                "all/\u00e9\u4e2d_n1",
                "all/batch-without-a-count",
                "",
            ]
        )
        entries[pos] = (new_name, body, method)
    else:
        if not batch_positions:
            return data
        pos = rng.choice(batch_positions)
        name, body, method = entries[pos]
        mutators = list(BYTE_MUTATORS.values())
        if json_flavour:
            mutators += [json_tokens, json_tokens]
        else:
            mutators += [nonminimal_varints, nonminimal_varints]
        body = rng.choice(mutators)(rng, body)
        entries[pos] = (name, body, method)
    return _rezip(entries)


_CD_FIELDS = [
    (4, "<H"),  # version made by
    (6, "<H"),  # version needed
    (8, "<H"),  # flags
    (10, "<H"),  # method
    (16, "<L"),  # CRC
    (20, "<L"),  # compressed size
    (24, "<L"),  # uncompressed size
    (28, "<H"),  # name length
    (30, "<H"),  # extra field length
    (42, "<L"),  # local header offset
]


def lie_in_headers(rng: random.Random, data: bytes) -> bytes:
    """Rewrite a size, offset, method, flag or CRC field of the central directory or of
    the end record (a zip whose headers lie)."""
    out = bytearray(data)
    records = []
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        records.append(pos)
        pos = data.find(b"PK\x01\x02", pos + 4)
    eocd = data.rfind(b"PK\x05\x06")
    if records and (eocd < 0 or rng.random() < 0.8):
        rec = rng.choice(records)
        offset, fmt = rng.choice(_CD_FIELDS)
        size = struct.calcsize(fmt)
        if rec + offset + size > len(out):
            return bytes(out)
        current = struct.unpack_from(fmt, out, rec + offset)[0]
        limit = 0xFFFF if fmt == "<H" else 0xFFFFFFFF
        value = rng.choice(
            [0, 1, limit, current + 1, max(0, current - 1), current * 2, rng.randint(0, limit)]
        )
        struct.pack_into(fmt, out, rec + offset, min(value, limit))
    elif eocd >= 0 and eocd + 22 <= len(out):
        offset, fmt = rng.choice([(8, "<H"), (10, "<H"), (12, "<L"), (16, "<L"), (20, "<H")])
        struct.pack_into(fmt, out, eocd + offset, rng.randint(0, 0xFFFF))
    return bytes(out)


def png_header(width: int, height: int, *, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose header announces ``width`` x ``height`` with one empty IDAT chunk."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


_BOMB: list[bytes] = []


def png_bomb() -> bytes:
    """A real decompression bomb: 20000 x 20000 one-bit pixels (400 M) in ~50 KB."""
    if not _BOMB:
        import zlib

        row = b"\x00" + bytes(20000 // 8)
        body = zlib.compress(row * 20000, 9)
        header = png_header(20000, 20000, bit_depth=1, colour=0)
        start = header.index(b"IDAT") - 4
        idat_len = struct.unpack(">I", header[start : start + 4])[0]
        end = start + 12 + idat_len
        crc = struct.pack(">I", zlib.crc32(b"IDAT" + body) & 0xFFFFFFFF)
        _BOMB.append(
            header[:start] + struct.pack(">I", len(body)) + b"IDAT" + body + crc + header[end:]
        )
    return _BOMB[0]


HOSTILE_IDS = [
    "../../escape",
    "../../../../../../tmp/escape",
    "/etc/passwd",
    "/abs/path",
    "a/b/c",
    "a\\..\\..\\b",
    "..",
    ".",
    "",
    " ",
    "CON",
    "nul",
    "aux.txt",
    "x" * 300,
    "\u00e9" * 200,
    "Case",
    "case",
    "CASE",
    "e\u0301",
    "\u00e9",
    "a\x00b",
    "tab\tnew\nline",
    "\u202egnp.exe",
    "emoji-\U0001f600",
    "~",
    "~2",
    "-rf",
    "--help",
    "$(touch pwned)",
    "all/../..",
    "mimetype",
]
_FLOATS = [float("nan"), float("inf"), float("-inf"), -1.0, 2.0, 1e30, -0.0, 5e-45, 3.4e38]
_STRUCT_NUMBERS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    2.0**63,
    2.0**64 + 1,
    -0.0,
]


def _hostile_media(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"\x89PNG\r\n\x1a\n",
            png_header(100_000, 100_000),
            png_header(0, 0),
            png_header(12_000, 12_000, bit_depth=8, colour=0),
            png_bomb(),
            b"GIF89a" + bytes(20),
            b"\xff\xd8\xff\xe0" + bytes(30),
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
        ]
    )


def semantic(rng: random.Random, base: BaseArchive) -> bytes:
    """Valid archives with hostile content: ids that are paths, duplicates, NaN boxes,
    bogus sizes, image bombs, odd metadata. The parsers accept them; commands must cope."""
    records = base_records()
    for _ in range(rng.randint(1, 6)):
        record = rng.choice(records)
        data = record.data
        action = rng.randrange(14)
        if action == 0:
            record.id = rng.choice(HOSTILE_IDS)
        elif action == 1:
            record.id = rng.choice(records).id  # a duplicate id, other content
        elif action == 2 and len(data.regions):
            box = rng.choice(data.regions).region_info.bounding_box
            setattr(
                box,
                rng.choice(["top_row", "left_col", "bottom_row", "right_col"]),
                rng.choice(_FLOATS),
            )
        elif action == 3:
            info = data.image.image_info
            info.width = rng.choice([0, -5, 1, 2**31 - 1, 100_000])
            info.height = rng.choice([0, -5, 1, 2**31 - 1, 100_000])
        elif action == 4:
            if data.HasField("video"):
                data.video.base64 = _hostile_media(rng)
            else:
                data.image.base64 = _hostile_media(rng)
                if rng.random() < 0.5:
                    data.image.ClearField("image_info")
        elif action == 5:
            concept = data.concepts.add()
            concept.id = rng.choice(HOSTILE_IDS)
            concept.name = rng.choice(HOSTILE_IDS)
            concept.value = rng.choice(_FLOATS + [0.5, 1.0])
        elif action == 6:
            key = rng.choice(["n", "split", "", "a.b", "x" * 100])
            value = rng.choice([1, "1", None, True, [], {}, 1e300, "train", [[[]]]])
            data.metadata.update({key: value})
        elif action == 12:
            # Numbers JSON cannot hold (NaN, infinities), and huge ones, anywhere in a
            # Struct: as a value, in a list, in a nested object.
            number = rng.choice(_STRUCT_NUMBERS)
            where = rng.randrange(3)
            if where == 0:
                data.metadata.update({"num": number})
            elif where == 1:
                data.metadata.update({"list": [1.0, number, "x"]})
            else:
                data.metadata.update({"deep": {"a": {"b": [number]}}})
        elif action == 13:
            # A long string that grows when escaped (\x01 is \u0001 in JSON), in the
            # metadata or the text; past the length written a piece at a time.
            text = rng.choice(["\x01", '"', "\\", "\n", "\x1f\u00e9"]) * rng.choice(
                [1000, 70_000, (1 << 20) + 3, 3 << 20]
            )
            if rng.random() < 0.7:
                data.metadata.update({"long": text})
            else:
                data.text.raw = text
        elif action == 7:
            vector = [rng.choice(_FLOATS) for _ in range(rng.randint(0, 4))]
            data.embeddings.add(vector=vector, num_dimensions=rng.choice([0, 3, 2**31]))
        elif action == 8:
            data.image.ClearField("base64")
            hosted = data.image.hosted
            hosted.prefix = rng.choice(["https://127.0.0.1:1", "", "file:///etc", "ftp://x"])
            hosted.suffix = rng.choice(["a.png", "../../x", "/abs", "%2e%2e/x"])
            hosted.sizes.append(rng.choice(["orig", "../", ""]))
        elif action == 9 and len(data.regions):
            region = rng.choice(data.regions)
            region.region_info.mask.image.base64 = _hostile_media(rng)
            region.id = rng.choice(HOSTILE_IDS)
        elif action == 10:
            poly = data.regions.add(id=rng.choice(HOSTILE_IDS)).region_info.polygon
            for _ in range(rng.choice([0, 1, 2, 50])):
                poly.points.add(row=rng.choice(_FLOATS + [0.5]), col=rng.choice(_FLOATS + [0.5]))
        else:
            data.text.raw = rng.choice(["", "\x00" * 10, "\ud7ff" * 100, "line\n" * 100])
    flavour = base.flavour
    try:
        return _archive_bytes(records, batch_size=rng.randint(1, 4), flavour=flavour)
    except ToolkitError:  # e.g. NaN in metadata has no JSON form: write protobuf
        return _archive_bytes(records, batch_size=rng.randint(1, 4))


def mutate(rng: random.Random, base: BaseArchive) -> tuple[str, bytes]:
    """One mutation of ``base``: ``(mutator name, bytes)``."""
    kind = rng.random()
    if kind < 0.25:
        name = rng.choice(list(BYTE_MUTATORS))
        return name, BYTE_MUTATORS[name](rng, base.data)
    if kind < 0.35:
        return "headers", lie_in_headers(rng, base.data)
    if kind < 0.65:
        return "entry", mutate_entries(rng, base.data, json_flavour=base.flavour == "json")
    if kind < 0.97:
        return "semantic", semantic(rng, base)
    return "none", base.data


# -- the command table -----------------------------------------------------------------


@dataclass
class Prepared:
    """What a row's ``prepare`` step gets: the case's files, a seeded rng, a runner."""

    archive: Path
    other: Path
    out: Path
    home: Path
    rng: random.Random
    runner: CliRunner


@dataclass
class CaseRun:
    """What an invariant check sees."""

    command: FuzzCommand
    archive: Path
    work: Path
    out: Path
    out_dir: Path
    input_id: str
    result: Result


Check = Callable[[CaseRun], None]


@dataclass(frozen=True)
class FuzzCommand:
    """One row of the table: a command line and what must hold when it succeeds."""

    name: str
    args: tuple[str, ...]
    check: Check | None = None
    #: Exit codes that count as a clean success besides 0 (e.g. "differences found").
    ok_codes: tuple[int, ...] = (0,)
    #: Flavours of archive the row is run on.
    flavours: tuple[str, ...] = ("protobuf", "json")
    #: Makes what the command needs besides the archive (e.g. an index), before the run.
    prepare: Callable[[Prepared], None] | None = None

    def argv(self, values: dict[str, str]) -> list[str]:
        return [arg.format(**values) for arg in self.args]


def _reader_ids(path: Path) -> list[str] | None:
    """Ids the library reads from ``path``, or None when it refuses the archive."""
    try:
        with ArchiveReader(path, allow_empty=True) as reader:
            return [r.id for r in reader.iter_inputs()]
    except ToolkitError:
        return None


def check_info_json(run: CaseRun) -> None:
    metrics = json.loads(run.result.stdout)
    ids = _reader_ids(run.archive)
    assert ids is not None, "info succeeded on an archive the reader refuses"
    assert metrics["inputs_count"] == len(ids), (metrics["inputs_count"], len(ids))


def check_info_text(run: CaseRun) -> None:
    assert run.result.stdout.startswith("archive:"), run.result.stdout[:200]


def check_inputs_list_json(run: CaseRun) -> None:
    lines = [json.loads(line) for line in run.result.stdout.split("\n") if line]
    ids = _reader_ids(run.archive)
    assert ids is not None
    assert [line.get("id", "") for line in lines] == ids[:100]


def check_inputs_get(run: CaseRun) -> None:
    record = json.loads(run.result.stdout)
    assert record.get("id", "") == run.input_id


def _source_ids(run: CaseRun) -> list[str]:
    ids = _reader_ids(run.archive)
    assert ids is not None, "the command succeeded on an archive the reader refuses"
    return ids


def _output_ids(path: Path) -> list[str]:
    assert path.is_file(), f"{path.name} missing after success"
    ids = _reader_ids(path)
    assert ids is not None, f"output {path.name} unreadable"
    return ids


def check_same_ids(run: CaseRun) -> None:
    """The output archive holds the source's inputs, in order."""
    assert _output_ids(run.out) == _source_ids(run)


def check_merge(run: CaseRun) -> None:
    other = _reader_ids(run.archive.with_name("other.zip")) or []
    assert set(_output_ids(run.out)) == set(_source_ids(run)) | set(other)


def check_remove(run: CaseRun) -> None:
    assert _output_ids(run.out) == [i for i in _source_ids(run) if i != run.input_id]


def check_filter_concept(run: CaseRun) -> None:
    from toolkit.concepts import iter_concepts

    kept = _output_ids(run.out)
    source = _source_ids(run)
    assert set(kept) <= set(source) and kept
    with ArchiveReader(run.out, allow_empty=True) as reader:
        for record in reader.iter_inputs():
            labels = [c for c in iter_concepts(record) if c.value > 0]
            assert any("cat" in (c.id.casefold(), c.name.casefold()) for c in labels)


def check_split(run: CaseRun) -> None:
    parts = sorted(run.out_dir.glob("*.zip"))
    assert [p.name for p in parts] == ["train.zip", "val.zip"], parts
    found = sorted(i for part in parts for i in _output_ids(part))
    assert found == sorted(_source_ids(run))


def check_jsonl(run: CaseRun) -> None:
    path = run.out_dir.with_suffix(".jsonl")
    lines = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    assert [line.get("id", "") for line in lines] == _source_ids(run)


def check_coco(run: CaseRun) -> None:
    coco = json.loads((run.out_dir / "annotations.json").read_text("utf-8"))
    assert isinstance(coco["images"], list) and isinstance(coco["annotations"], list)
    for image in coco["images"]:
        name = image["file_name"]
        assert not os.path.isabs(name) and ".." not in Path(name).parts, name


def check_parquet(run: CaseRun) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(run.out_dir)
    assert table.column("id").to_pylist() == _source_ids(run)


def check_yolo(run: CaseRun) -> None:
    assert (run.out_dir / "data.yaml").is_file()
    for label in run.out_dir.glob("labels/**/*.txt"):
        for line in label.read_text("utf-8").splitlines():
            fields = line.split()
            assert int(fields[0]) >= 0 and len(fields) >= 5, line
            assert all(0.0 <= float(x) <= 1.0 for x in fields[1:]), line


def check_voc(run: CaseRun) -> None:
    from xml.etree import ElementTree

    for path in (run.out_dir / "Annotations").glob("*.xml"):
        root = ElementTree.parse(path).getroot()
        assert root.tag == "annotation", path.name


def check_sdk(run: CaseRun) -> None:
    assert run.out.is_file()
    with zipfile.ZipFile(run.out) as zf:
        for name in zf.namelist():
            assert not name.startswith("/") and ".." not in name.split("/"), name


def check_catalog_add(run: CaseRun) -> None:
    _source_ids(run)


def _build_index(run: Prepared, source: Path) -> bool:
    result = run.runner.invoke(
        cli, ["-q", "index", "build", str(source), "-o", str(run.out / "index")]
    )
    return result.exit_code == 0 and (run.out / "index").is_dir()


def prepare_index_of_other(run: Prepared) -> None:
    """An index of the valid second archive (for ``index add`` of the mutated one)."""
    assert _build_index(run, run.other), "could not index the valid archive"


def prepare_index(run: Prepared) -> None:
    """An index of the mutated archive (else of the valid one), sometimes damaged."""
    if not _build_index(run, run.archive):
        shutil.rmtree(run.out / "index", ignore_errors=True)
        assert _build_index(run, run.other), "could not index the valid archive"
    if run.rng.random() < 0.2:
        tamper_sidecar(run.rng, run.out / "index" / "index.json")
    elif run.rng.random() < 0.3:  # a damaged or hostile index folder
        # index.faiss too: faiss.read_index trusts the sizes in its header (a 141-byte
        # file made it allocate 6 GB for 13 s), so loading checks its CRC-32 first.
        files = sorted((run.out / "index").iterdir())
        target = run.rng.choice(files)
        data = target.read_bytes()
        if target.suffix == ".json" and run.rng.random() < 0.5:
            data = json_tokens(run.rng, data)
        else:
            data = run.rng.choice(list(BYTE_MUTATORS.values()))(run.rng, data)
        target.write_bytes(data)


_TAMPER_VALUES: list[Any] = [
    None,
    0,
    -5,
    2**40,
    2**70,
    1.5,
    float("nan"),
    True,
    "",
    "x",
    [],
    [1, "a"],
    {},
    {"sha256": 3},
]
_TAMPER_PATHS: list[tuple[Any, ...]] = [
    ("files",),
    ("files", "index.faiss"),
    ("files", "index.faiss", "sha256"),
    ("files", "index.faiss", "crc32"),
    ("files", "vectors.npy", "bytes"),
    ("files", "ids.json", "sha256"),
    ("sources",),
    ("sources", 0),
    ("sources", 0, "sha256"),
    ("sources", 0, "path"),
    ("search_params",),
    ("search_params", "nprobe"),
    ("search_params", "ef_search"),
    ("search_params", "rerank"),
    ("params",),
    ("params", "factory"),
    ("params", "nlist"),
    ("counts",),
    ("tuning",),
    ("history",),
    ("dimension",),
    ("count",),
    ("metric",),
    ("kind",),
    ("embedding",),
    ("timings_s",),
]


def tamper_sidecar(rng: random.Random, path: Path) -> None:
    """Set (or delete) one field of ``index.json``, at any depth, to a value of another
    type or out of range: a list where an object is due, an int, a missing sha256,
    nprobe 0 or -5 or 2**40, NaN."""
    try:
        sidecar = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return
    keys = rng.choice(_TAMPER_PATHS)
    target: Any = sidecar
    for key in keys[:-1]:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and isinstance(key, int) and key < len(target):
            target = target[key]
        else:
            return
    last = keys[-1]
    if isinstance(target, dict) or (isinstance(target, list) and isinstance(last, int)):
        if isinstance(target, dict) and rng.random() < 0.2:
            target.pop(last, None)
        elif isinstance(target, dict) or last < len(target):
            target[last] = rng.choice(_TAMPER_VALUES)
    path.write_text(json.dumps(sidecar), "utf-8")


def _add_dataset(run: Prepared, source: Path, dataset: str) -> bool:
    result = run.runner.invoke(
        cli, ["--home", str(run.home), "-q", "datasets", "add", str(source), "--dataset", dataset]
    )
    return result.exit_code == 0


def prepare_dataset_of_other(run: Prepared) -> None:
    """A catalog dataset ``base`` holding the valid second archive."""
    assert _add_dataset(run, run.other, "base"), "could not add the valid archive"


def prepare_dataset(run: Prepared) -> None:
    """A catalog dataset ``d`` holding the mutated archive (else the valid one)."""
    if not _add_dataset(run, run.archive, "d"):
        assert _add_dataset(run, run.other, "d"), "could not add the valid archive"


def prepare_damaged_catalog_file(run: Prepared) -> None:
    """Dataset ``d`` version ``v1`` whose archive file in the catalog is then replaced by
    the mutated archive (a file damaged on disk after it was added)."""
    result = run.runner.invoke(
        cli,
        ["--home", str(run.home), "-q", "datasets", "add", str(run.other)]
        + ["--dataset", "d", "--version", "v1"],
    )
    assert result.exit_code == 0, result.stderr
    stored = run.home / "archives" / "d" / "v1.zip"
    assert stored.is_file(), "the catalog keeps its archives elsewhere now"
    stored.write_bytes(run.archive.read_bytes())


def check_index_dir(run: CaseRun) -> None:
    assert (run.out_dir / "index.json").is_file()


def check_refused(run: CaseRun) -> None:
    """A command that writes over one of its own sources must be refused (Error, exit 1);
    ``run_case`` also checks that the sources are unchanged."""
    raise AssertionError("a command whose output is one of its sources succeeded")


#: Rows whose output, report, sheet or gallery is one of the command's own sources.
SOURCE_TARGETS: list[FuzzCommand] = [
    FuzzCommand(
        "aimed: convert --report source",
        ("convert", "{archive}", "--to", "jsonl", "-o", "{out_dir}.jsonl", "--report", "{archive}"),
        check_refused,
    ),
    FuzzCommand(
        "aimed: convert -o source",
        ("convert", "{archive}", "--to", "json", "-o", "{archive}"),
        check_refused,
    ),
    FuzzCommand(
        "aimed: merge -o source",
        ("merge", "{archive}", "{other}", "-o", "{other}"),
        check_refused,
    ),
    FuzzCommand(
        "aimed: merge --report source",
        ("merge", "{archive}", "{other}", "-o", "{out}", "--report", "{archive}"),
        check_refused,
    ),
    FuzzCommand(
        "aimed: remove -o source",
        ("remove", "{archive}", "--id", "{id}", "-o", "{archive}"),
        check_refused,
    ),
    FuzzCommand(
        "aimed: search --sheet index.faiss",
        ("search", "{index}", "--like", "{id}", "--sheet", "{index}/index.faiss", "--force"),
        check_refused,
        prepare=prepare_index,
    ),
    FuzzCommand(
        "aimed: search --html indexed archive",
        ("search", "{index}", "--like", "other-001", "--html", "{other}", "--force"),
        check_refused,
        prepare=prepare_index_of_other,
    ),
]

COMMANDS: list[FuzzCommand] = [
    FuzzCommand("info", ("info", "{archive}"), check_info_text),
    FuzzCommand("info --json", ("info", "{archive}", "--json"), check_info_json),
    FuzzCommand("inputs list", ("inputs", "list", "{archive}")),
    FuzzCommand(
        "inputs list --json", ("inputs", "list", "{archive}", "--json"), check_inputs_list_json
    ),
    FuzzCommand(
        "inputs list --concept",
        ("inputs", "list", "{archive}", "--concept", "ball", "--per-page", "2", "--page", "2"),
    ),
    FuzzCommand("inputs get", ("inputs", "get", "{archive}", "{id}"), check_inputs_get),
    FuzzCommand("merge", ("merge", "{archive}", "{other}", "-o", "{out}"), check_merge),
    FuzzCommand(
        "merge --on-conflict rename",
        ("merge", "{archive}", "{archive}", "-o", "{out}", "--on-conflict", "rename")
        + ("--merge-annotations", "--to", "json"),
    ),
    FuzzCommand("remove", ("remove", "{archive}", "--id", "{id}", "-o", "{out}"), check_remove),
    FuzzCommand(
        "filter --concept",
        ("filter", "{archive}", "--concept", "cat", "-o", "{out}"),
        check_filter_concept,
    ),
    FuzzCommand(
        "filter --metadata --type",
        ("filter", "{archive}", "--metadata", "n=1", "--type", "image", "--has-regions")
        + ("-o", "{out}", "--to", "json"),
    ),
    FuzzCommand(
        "split",
        ("split", "{archive}", "--ratios", "train=0.5,val=0.5", "-o", "{out_dir}"),
        check_split,
    ),
    FuzzCommand(
        "split --stratify-by concept",
        ("split", "{archive}", "--ratios", "train=0.7,val=0.3", "--stratify-by", "concept")
        + ("--tag", "-o", "{out_dir}"),
        check_split,
    ),
    FuzzCommand(
        "convert json", ("convert", "{archive}", "--to", "json", "-o", "{out}"), check_same_ids
    ),
    FuzzCommand(
        "convert protobuf",
        ("convert", "{archive}", "--to", "protobuf", "-o", "{out}"),
        check_same_ids,
    ),
    FuzzCommand(
        "convert jsonl",
        ("convert", "{archive}", "--to", "jsonl", "-o", "{out_dir}.jsonl"),
        check_jsonl,
    ),
    FuzzCommand(
        "convert coco",
        ("convert", "{archive}", "--to", "coco", "-o", "{out_dir}", "--media", "embedded"),
        check_coco,
    ),
    FuzzCommand(
        "convert parquet",
        ("convert", "{archive}", "--to", "parquet", "-o", "{out_dir}"),
        check_parquet,
    ),
    FuzzCommand(
        "convert yolo",
        ("convert", "{archive}", "--to", "yolo", "-o", "{out_dir}", "--media", "embedded"),
        check_yolo,
    ),
    FuzzCommand(
        "convert voc",
        ("convert", "{archive}", "--to", "voc", "-o", "{out_dir}", "--media", "embedded"),
        check_voc,
    ),
    FuzzCommand("relabel", ("relabel", "{archive}", "--map", "cat=dog", "-o", "{out}")),
    FuzzCommand("dedupe", ("dedupe", "{archive}", "-o", "{out}")),
    FuzzCommand(
        "convert sdk",
        ("convert", "{archive}", "--to", "sdk", "-o", "{out}", "--media", "embedded", "--png"),
        check_sdk,
    ),
    FuzzCommand(
        "datasets add", ("datasets", "add", "{archive}", "--dataset", "fuzz"), check_catalog_add
    ),
    FuzzCommand("index build", ("index", "build", "{archive}", "-o", "{out_dir}"), check_index_dir),
    FuzzCommand(
        "index add",
        ("index", "add", "{index}", "{archive}", "--skip-bad"),
        prepare=prepare_index_of_other,
    ),
    FuzzCommand(
        "index remove", ("index", "remove", "{index}", "--id", "{id}"), prepare=prepare_index
    ),
    FuzzCommand(
        "index eval", ("index", "eval", "{index}", "--queries", "4"), prepare=prepare_index
    ),
    FuzzCommand(
        "search",
        ("search", "{index}", "--like", "{id}", "-k", "3", "--json", "--sheet", "{out_dir}.png")
        + ("--html", "{out_dir}.html"),
        prepare=prepare_index,
    ),
    FuzzCommand("sort", ("sort", "{index}", "--like", "{id}"), prepare=prepare_index),
    FuzzCommand("duplicates", ("duplicates", "{index}", "--json"), prepare=prepare_index),
    FuzzCommand("index info", ("index", "info", "{index}", "--json"), prepare=prepare_index),
    FuzzCommand(
        "datasets merge",
        ("datasets", "merge", "{archive}", "--into", "base", "--on-conflict", "rename"),
        prepare=prepare_dataset_of_other,
    ),
    FuzzCommand(
        "datasets export",
        ("datasets", "export", "d", "--to", "sdk", "-o", "{out}", "--media", "embedded"),
        check_sdk,
        prepare=prepare_dataset,
    ),
    FuzzCommand(
        "inputs delete", ("inputs", "delete", "d", "--id", "{id}"), prepare=prepare_dataset
    ),
    FuzzCommand("datasets get", ("datasets", "get", "d", "--json"), prepare=prepare_dataset),
    FuzzCommand("versions list", ("versions", "list", "d", "--json"), prepare=prepare_dataset),
    FuzzCommand(
        "versions refresh",
        ("versions", "refresh", "d", "v1", "--json"),
        prepare=prepare_damaged_catalog_file,
    ),
    FuzzCommand(
        "versions get (damaged file)",
        ("versions", "get", "d", "v1"),
        prepare=prepare_damaged_catalog_file,
    ),
    # Every writing option aimed at a source: refused, the source unchanged.
    *SOURCE_TARGETS,
]


def command_names() -> list[str]:
    return [c.name for c in COMMANDS]


def find_command(name: str) -> FuzzCommand:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)


# -- running one case --------------------------------------------------------------


class Hang(BaseException):
    """Raised by the timer when a case runs past its bound."""


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Interrupt the main thread with :class:`Hang` after ``seconds``."""

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Finding:
    """The outcome of one case."""

    command: str
    outcome: str
    seconds: float
    exit_code: int | None = None
    detail: str = ""
    stderr: str = ""


def _listing(folder: Path) -> set[str]:
    found = set()
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(root, name), folder))
    return found


@dataclass
class Workspace:
    """A folder for one case: inputs are written here, outputs go under ``out/``."""

    root: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "home"


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (small case folders only)."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, folder)] = fh.read()
    return found


def run_case(
    command: FuzzCommand,
    archive_bytes: bytes,
    work: Path,
    *,
    input_id: str,
    other_bytes: bytes = b"",
    timeout: float = 10.0,
    runner: CliRunner | None = None,
    rng: random.Random | None = None,
) -> Finding:
    """Run one row on one archive inside ``work`` (created, then emptied) and classify it."""
    if work.exists():
        shutil.rmtree(work)
    case = work / "case"
    inputs = case / "in"
    outputs = case / "out"
    inputs.mkdir(parents=True)
    outputs.mkdir()
    archive = inputs / "archive.zip"
    archive.write_bytes(archive_bytes)
    other = inputs / "other.zip"
    if other_bytes:
        other.write_bytes(other_bytes)
    home = case / "home"
    values = {
        "archive": str(archive),
        "other": str(other),
        "out": str(outputs / "result.zip"),
        "out_dir": str(outputs / "result"),
        "id": input_id,
        "home": str(home),
        "index": str(outputs / "index"),
    }
    argv = ["--home", str(home), "-q", *command.argv(values)]
    runner = runner or CliRunner()
    if command.prepare is not None:
        prepared = Prepared(archive, other, outputs, home, rng or random.Random(0), runner)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            command.prepare(prepared)
    out_before = _snapshot(outputs)
    before = _listing(work)
    parent_before = set(os.listdir(work.parent))
    inputs_before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    start = time.perf_counter()
    finding = Finding(command.name, "ok", 0.0)
    result: Result | None = None
    cwd = os.getcwd()
    try:
        os.chdir(outputs)  # relative paths a command makes up land in the output folder
        with time_bound(timeout):
            result = runner.invoke(cli, argv, catch_exceptions=True)
    except Hang:
        finding.outcome, finding.detail = "hang", f"over {timeout:g} s"
    finally:
        os.chdir(cwd)
    finding.seconds = time.perf_counter() - start
    if result is not None:
        finding.exit_code = result.exit_code
        finding.stderr = result.stderr[-2000:]
        finding.outcome, finding.detail = _classify(command, result, archive, work, input_id)
    # Nothing may appear outside the output and catalog folders; sources stay unchanged.
    allowed = (os.path.join("case", "out"), os.path.join("case", "home"))
    escaped = sorted(p for p in _listing(work) - before if not p.startswith(allowed))
    escaped += sorted(set(os.listdir(work.parent)) - parent_before)
    if escaped and finding.outcome != "crash":
        finding.outcome, finding.detail = "leak", f"written outside the case folder: {escaped}"
    changed = [n for n, body in inputs_before.items() if (inputs / n).read_bytes() != body]
    if changed and finding.outcome != "crash":
        finding.outcome, finding.detail = "leak", f"sources modified: {changed}"
    if finding.outcome == "error":
        out_after = _snapshot(outputs)
        left = sorted(set(_listing(outputs)) - set(_listing_of(out_before)))
        changed = sorted(k for k, v in out_before.items() if out_after.get(k) != v)
        if left:
            finding.outcome, finding.detail = "leak", f"failed run left {left}"
        elif changed:
            finding.outcome, finding.detail = "leak", f"failed run changed {changed}"
    return finding


def _listing_of(files: dict[str, bytes]) -> set[str]:
    """The paths (files and their folders) a snapshot holds, as ``_listing`` gives them."""
    found = set()
    for name in files:
        parts = Path(name).parts
        for n in range(1, len(parts) + 1):
            found.add(os.path.join(*parts[:n]))
    return found


def _classify(
    command: FuzzCommand, result: Result, archive: Path, work: Path, input_id: str
) -> tuple[str, str]:
    output = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        return "crash", f"{type(result.exception).__name__}: {result.exception}\n{tb[-3000:]}"
    if "Traceback (most recent call last)" in output:
        return "crash", "a traceback was printed"
    if result.exit_code in command.ok_codes:
        if command.check is not None:
            case = work / "case"
            run = CaseRun(
                command,
                archive,
                work,
                case / "out" / "result.zip",
                case / "out" / "result",
                input_id,
                result,
            )
            try:
                command.check(run)
            except Exception as exc:  # an invariant broke
                return "crash", f"invariant: {type(exc).__name__}: {str(exc)[:500]}"
        return "ok", ""
    if result.exit_code in (1, 2):
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        if len(errors) != 1:
            return "crash", f"{len(errors)} 'Error:' lines on exit {result.exit_code}"
        return "error", errors[0][:300]
    return "crash", f"exit code {result.exit_code}"


# -- many cases --------------------------------------------------------------------


@dataclass
class Tally:
    """Counts per command and outcome, plus the worst cases seen."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    bad: list[tuple[Finding, str, bytes]] = field(default_factory=list)

    def add(self, finding: Finding, mutation: str, data: bytes) -> None:
        row = self.counts.setdefault(finding.command, dict.fromkeys(OUTCOMES, 0))
        row[finding.outcome] += 1
        self.slowest[finding.command] = max(self.slowest.get(finding.command, 0.0), finding.seconds)
        if finding.outcome in ("crash", "hang", "leak"):
            self.bad.append((finding, mutation, data))

    def merge(self, other: Tally) -> None:
        for command, row in other.counts.items():
            mine = self.counts.setdefault(command, dict.fromkeys(OUTCOMES, 0))
            for key, value in row.items():
                mine[key] += value
        for command, seconds in other.slowest.items():
            self.slowest[command] = max(self.slowest.get(command, 0.0), seconds)
        self.bad.extend(other.bad)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.counts.values())

    def table(self) -> str:
        header = f"{'command':<28} {'cases':>8} {'ok':>8} {'error':>8} "
        header += f"{'crash':>6} {'hang':>5} {'leak':>5} {'slowest':>8}"
        lines = [header]
        totals = dict.fromkeys(OUTCOMES, 0)
        for command in sorted(self.counts):
            row = self.counts[command]
            for key in OUTCOMES:
                totals[key] += row[key]
            lines.append(
                f"{command:<28} {sum(row.values()):>8} {row['ok']:>8} {row['error']:>8} "
                f"{row['crash']:>6} {row['hang']:>5} {row['leak']:>5} "
                f"{self.slowest[command]:>7.2f}s"
            )
        lines.append(
            f"{'TOTAL':<28} {sum(totals.values()):>8} {totals['ok']:>8} {totals['error']:>8} "
            f"{totals['crash']:>6} {totals['hang']:>5} {totals['leak']:>5}"
        )
        return "\n".join(lines)


def fuzz(
    *,
    seed: int,
    cases: int,
    work: Path,
    commands: Sequence[FuzzCommand] | None = None,
    timeout: float = 10.0,
    deadline: float | None = None,
    on_progress: Callable[[int, Tally], None] | None = None,
) -> Tally:
    """Run ``cases`` cases round-robin over ``commands`` (all rows by default).

    Each case mutates one of the base archives with a generator seeded by
    ``(seed, case number)``, so any case can be replayed alone.
    """
    commands = list(commands or COMMANDS)
    bases = base_archives()
    other = other_archive_bytes()
    tally = Tally()
    runner = CliRunner()
    for n in range(cases):
        if deadline is not None and time.monotonic() > deadline:
            break
        command = commands[n % len(commands)]
        rng = random.Random(f"{seed}:{n}")
        eligible = [b for b in bases if b.flavour in command.flavours]
        base = rng.choice(eligible)
        mutation, data = mutate(rng, base)
        finding = run_case(
            command,
            data,
            work,
            input_id=rng.choice(base.ids),
            other_bytes=other,
            timeout=timeout,
            runner=runner,
            rng=rng,
        )
        tally.add(finding, f"{base.name}/{mutation}/seed={seed}:{n}", data)
        if on_progress is not None and (n + 1) % 2000 == 0:
            on_progress(n + 1, tally)
    shutil.rmtree(work, ignore_errors=True)
    return tally
