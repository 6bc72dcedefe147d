"""Protobuf wire encoding helpers for building messages from bytes directly."""

from __future__ import annotations

__all__ = ["encode_field", "encode_varint"]


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
