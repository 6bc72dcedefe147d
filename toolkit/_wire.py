"""Protobuf wire-format helpers: build messages from bytes, read packed values in place."""

from __future__ import annotations

import numpy as np

__all__ = ["encode_field", "encode_varint", "frame_offsets", "packed_floats", "read_varint"]


def encode_varint(value: int) -> bytes:
    """A non-negative integer as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a sub-message, bytes, a string or a packed list)."""
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def read_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` in ``data``, and the position after it."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def packed_floats(data: bytes) -> np.ndarray | None:
    """Field 1 of a serialized message as float32 values viewed in place, or None.

    None unless field 1 comes first as a length-delimited packed list, as protobuf writes
    ``Embedding.vector`` (fields in number order). Viewing the wire bytes is about three
    times faster than converting the repeated field element by element.
    """
    if not data or data[0] != 0x0A:
        return None
    length, pos = read_varint(data, 1)
    return np.frombuffer(data, dtype="<f4", count=length // 4, offset=pos)


def frame_offsets(data: bytes | bytearray | memoryview) -> list[int] | None:
    """Where each input starts in the wire bytes of an ``InputBatch``, plus the end.

    ``data[offsets[i]:offsets[i + 1]]`` is input ``i`` with its field tag and length,
    ready to be concatenated into another batch. None when the bytes hold anything
    but inputs (unknown fields), so that the caller re-encodes instead.

    Example::

        offsets = frame_offsets(encode_batch([a, b]))   # [0, 2 + len(a), 4 + len(a) + len(b)]
    """
    offsets = [0]
    append = offsets.append
    pos = 0
    end = len(data)
    try:
        while pos < end:
            if data[pos] != 0x0A:
                return None
            length = data[pos + 1]
            if length < 0x80:  # the common short frame, without a call
                pos += 2 + length
            else:
                length, pos = read_varint(data, pos + 1)
                pos += length
            append(pos)
    except IndexError:
        return None
    if pos != end:
        return None
    return offsets
