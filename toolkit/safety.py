"""Guards for untrusted data: images, nested metadata, batch sizes in memory, secrets.

An archive is a file from the internet. These helpers turn what could exhaust the
machine or leak a key into a :class:`~toolkit.errors.LimitError` (or
:class:`~toolkit.errors.MediaError`) with a message that names the option raising
the limit.

Example::

    with open_image(data, max_pixels=limits.max_image_pixels, where="img-0001") as image:
        width, height = image.size
    check_metadata_depth(record.data.metadata, max_depth=32, where="img-0001")
    message = redact(f"fetch failed with key {pat}")   # the key never shows
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from typing import TYPE_CHECKING, Any, BinaryIO

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from .errors import LimitError, MediaError
from .limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from google.protobuf.struct_pb2 import Struct
    from PIL import Image as PILImage

__all__ = [
    "REDACTED",
    "check_metadata_depth",
    "count_json_objects",
    "count_wire_objects",
    "image_size",
    "metadata_depth",
    "open_image",
    "redact",
    "register_secret",
]

REDACTED = "***"

# -- images ------------------------------------------------------------------------

_PIL_LOCK = threading.Lock()


def open_image(
    data: bytes | str | os.PathLike[str] | BinaryIO,
    *,
    max_pixels: int | None = DEFAULT_LIMITS.max_image_pixels,
    where: str = "image",
) -> PILImage.Image:
    """Open image bytes (or a path, or a binary file) lazily, refusing over ``max_pixels``.

    Only the header is read here; decoding happens on ``.load()`` (or any pixel access)
    and is bounded by the size checked here. More pixels than ``max_pixels`` raise
    :class:`LimitError` (naming ``--max-image-pixels``); bytes that are no image raise
    :class:`MediaError`. ``max_pixels=None`` reads the header with no pixel limit and no
    pillow warning, for a caller that only wants the size or format, or checks the size
    against its limit itself before decoding.

    Example::

        with open_image(record.data.image.base64, where=record.id) as image:
            image.load()
    """
    from PIL import Image

    with _PIL_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        # Pillow warns above MAX_IMAGE_PIXELS and fails above twice that; the warning is
        # made an error, so its check stops exactly at our limit.
        Image.MAX_IMAGE_PIXELS = None if max_pixels is None else max(1, max_pixels)
        source = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(source)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _pixel_error(where, max_pixels or 0, str(exc)) from None
        except Exception as exc:  # UnidentifiedImageError, and assorted errors of plugins
            raise MediaError(f"{where}: not a readable image ({_short(exc)})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = image.size
    if width < 0 or height < 0 or (max_pixels is not None and width * height > max_pixels):
        image.close()
        if max_pixels is None:
            raise MediaError(f"{where}: not a readable image ({width} x {height} pixels)")
        raise _pixel_error(where, max_pixels, f"{width} x {height} pixels")
    return image


def image_size(
    data: bytes | str | os.PathLike[str] | BinaryIO,
    *,
    max_pixels: int | None = DEFAULT_LIMITS.max_image_pixels,
    where: str = "image",
) -> tuple[int, int]:
    """``(width, height)`` from the image header, without decoding the pixels.

    Example::

        width, height = image_size(record.data.image.base64, where=record.id)
    """
    with open_image(data, max_pixels=max_pixels, where=where) as image:
        return image.size


def _pixel_error(where: str, max_pixels: int, detail: str) -> LimitError:
    return LimitError(
        f"{where}: image too large ({detail}), over the limit of {max_pixels} pixels "
        "(a decompression bomb?); raise limits.max_image_pixels if the archive is trusted",
        params=["limits.max_image_pixels"],
    )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


# -- nested metadata -----------------------------------------------------------------


def metadata_depth(struct: Struct) -> int:
    """How deep a ``google.protobuf.Struct`` nests: 1 for flat, +1 per struct or list level.

    Walks iteratively, so no depth can exhaust Python's stack.

    Example::

        metadata_depth(record.data.metadata)   # {"a": {"b": [1]}} -> 3
    """
    deepest = 0
    # Each item: (a Struct's fields map or a ListValue's values, depth of that container).
    stack: list[tuple[object, int]] = [(struct.fields.values(), 1)]
    while stack:
        values, depth = stack.pop()
        deepest = max(deepest, depth)
        for value in values:  # type: ignore[attr-defined]
            kind = value.WhichOneof("kind")
            if kind == "struct_value":
                stack.append((value.struct_value.fields.values(), depth + 1))
            elif kind == "list_value":
                stack.append((value.list_value.values, depth + 1))
    return deepest


#: A nested level costs at least this many bytes on the wire (list levels: two tags and
#: two lengths), so a Struct of n bytes nests at most n // 4 + 1 deep.
_MIN_BYTES_PER_LEVEL = 4


def check_metadata_depth(
    struct: Struct, *, max_depth: int = DEFAULT_LIMITS.max_metadata_depth, where: str = "metadata"
) -> None:
    """Raise :class:`LimitError` when ``struct`` nests deeper than ``max_depth``.

    Cheap for small metadata: a Struct too short on the wire to reach the limit is not
    walked at all.

    Example::

        check_metadata_depth(record.data.metadata, max_depth=16, where=record.id)
    """
    if struct.ByteSize() // _MIN_BYTES_PER_LEVEL + 1 <= max_depth:
        return
    depth = metadata_depth(struct)
    if depth > max_depth:
        raise LimitError(
            f"{where}: metadata nests {depth} levels deep, over the limit of {max_depth}; "
            "raise limits.max_metadata_depth if the archive is trusted",
            params=["limits.max_metadata_depth"],
        )


# -- memory a parsed batch takes -------------------------------------------------------

_Table = dict[int, Any]  # field number -> the table of that message field, or None (scalars)
_TABLES: dict[str, _Table] = {}


def _table_for(descriptor: Descriptor) -> _Table:
    """Field tables of ``descriptor`` and every message it reaches, built once and linked
    to each other (the schema has cycles: Data -> Region -> Data)."""
    table = _TABLES.get(descriptor.full_name)
    if table is not None:
        return table
    pending = [descriptor]
    _TABLES[descriptor.full_name] = {}
    while pending:
        current = pending.pop()
        table = _TABLES[current.full_name]
        for f in current.fields:
            sub = f.message_type if f.type == FieldDescriptor.TYPE_MESSAGE else None
            if sub is not None and sub.full_name not in _TABLES:
                _TABLES[sub.full_name] = {}
                pending.append(sub)
            table[f.number] = None if sub is None else _TABLES[sub.full_name]
    return _TABLES[descriptor.full_name]


def count_wire_objects(data: bytes, descriptor: Descriptor, *, stop_after: int) -> int:
    """Count the fields (each a parsed object in memory) of serialized ``descriptor`` data.

    Sub-messages of known fields are walked; unknown fields are counted once (protobuf
    keeps them as raw bytes). Counting stops once it passes ``stop_after``. Malformed
    data ends the walk quietly: the real parser reports it. Each field takes at least
    two bytes on the wire, so data shorter than ``2 * stop_after`` never needs a walk.
    About half a microsecond a field.

    Example::

        count_wire_objects(entry_bytes, InputBatch.DESCRIPTOR, stop_after=10_000_000)
    """
    count = 0
    table: _Table = _table_for(descriptor)
    stack: list[tuple[int, _Table]] = []
    end = len(data)
    pos = 0
    try:
        while True:
            if pos >= end:
                if not stack:
                    return count
                pos = end
                end, table = stack.pop()
                continue
            key = data[pos]
            pos += 1
            if key >= 0x80:
                key &= 0x7F
                shift = 7
                while True:
                    byte = data[pos]
                    pos += 1
                    key |= (byte & 0x7F) << shift
                    if byte < 0x80:
                        break
                    shift += 7
                    if shift > 63:
                        return count
            count += 1
            if count > stop_after:
                return count
            wire = key & 7
            if wire == 2:  # length-delimited: a sub-message, bytes, a string or packed
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length &= 0x7F
                    shift = 7
                    while True:
                        byte = data[pos]
                        pos += 1
                        length |= (byte & 0x7F) << shift
                        if byte < 0x80:
                            break
                        shift += 7
                        if shift > 63:
                            return count
                sub = table.get(key >> 3)
                if sub is not None and pos + length <= end:
                    stack.append((end, table))
                    end = pos + length
                    table = sub
                else:
                    pos += length
            elif wire == 0:  # varint
                while data[pos] >= 0x80:
                    pos += 1
                pos += 1
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 3:  # a group: its fields are unknown fields, counted as they come
                stack.append((end, table))
                table = {}
            elif wire == 4:
                if stack and stack[-1][0] == end:
                    end, table = stack.pop()
            else:
                return count
            if pos > end:
                return count
    except IndexError:
        return count


def count_json_objects(data: bytes) -> int:
    """An upper bound on the objects, lists and values parsing JSON ``data`` creates."""
    return data.count(b"{") + data.count(b"[") + data.count(b",")


# -- secrets -----------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRET_ENV = "CLARIFAI_PAT"


def register_secret(value: str | None) -> None:
    """Remember a key so that :func:`redact` hides it from every message.

    Example::

        pat = read_pat(pat_file)
        register_secret(pat)
    """
    if value and len(value.strip()) >= 4:
        _SECRETS.add(value.strip())


def redact(text: str) -> str:
    """``text`` with every registered key (and ``$CLARIFAI_PAT``) replaced by ``***``.

    Example::

        redact("401 for key abcd1234")   # '401 for key ***' when abcd1234 is the key
    """
    secrets = set(_SECRETS)
    env = os.environ.get(_SECRET_ENV, "").strip()
    if len(env) >= 4:
        secrets.add(env)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
