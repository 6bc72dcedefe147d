"""Input ids held compactly: one UTF-8 buffer and its offsets, a ``Sequence[str]``.

``Archive.embeddings()`` returns one of these beside the matrix: a million ids take the
bytes of the ids plus 8 bytes each, where a list would take a Python string (~60 bytes)
each. It indexes, slices, iterates, and compares equal to a list of the same ids.

Example::

    ids, matrix = archive.embeddings()
    ids[0], len(ids), ids[:3] == ["a", "b", "c"]
    ids.to_list()                                  # a plain list[str], when one is wanted
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

__all__ = ["InputIds", "InputIdsBuilder"]


class InputIds(Sequence[str]):
    """A read-only sequence of input ids (str), stored as UTF-8 bytes and int64 offsets.

    Compares equal to any sequence (a list, a tuple, another :class:`InputIds`) holding
    the same ids in the same order.
    """

    __slots__ = ("_data", "_offsets")

    def __init__(self, data: bytes = b"", offsets: np.ndarray | None = None) -> None:
        """``data`` holds the ids' UTF-8 bytes one after the other; ``offsets`` (int64,
        one more than the ids) where each starts, the last the end."""
        self._data = data
        self._offsets = np.zeros(1, np.int64) if offsets is None else offsets
        if self._offsets.ndim != 1 or len(self._offsets) < 1:
            raise ValueError("offsets must be one-dimensional, with at least one item")

    @classmethod
    def from_strings(cls, ids: Iterable[str]) -> InputIds:
        """The ids of ``ids``."""
        builder = InputIdsBuilder()
        for input_id in ids:
            builder.append(input_id)
        return builder.build()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> InputIds: ...

    def __getitem__(self, index: int | slice) -> str | InputIds:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                stop = max(start, stop)
                offsets = self._offsets[start : stop + 1]
                data = self._data[int(offsets[0]) : int(offsets[-1])]
                return InputIds(data, offsets - offsets[0])
            return InputIds.from_strings(self[i] for i in range(start, stop, step))
        n = len(self)
        i = index.__index__()
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("input id index out of range")
        return self._data[int(self._offsets[i]) : int(self._offsets[i + 1])].decode()

    def __iter__(self) -> Iterator[str]:
        data = self._data
        bounds = self._offsets.tolist()
        for start, stop in zip(bounds, bounds[1:], strict=False):
            yield data[start:stop].decode()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InputIds):
            return (
                len(self) == len(other)
                and self._data == other._data
                and np.array_equal(self._offsets, other._offsets)
            )
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like list: not hashable

    def __repr__(self) -> str:
        shown = ", ".join(repr(s) for s in self[:5])
        more = f", ... ({len(self)} ids)" if len(self) > 5 else ""
        return f"InputIds([{shown}{more}])"

    def to_list(self) -> list[str]:
        """The ids as a plain list of str."""
        bounds = self._offsets.tolist()
        if self._data.isascii():  # one decode, then slices (byte and character offsets agree)
            text = self._data.decode("ascii")
            return [text[start:stop] for start, stop in zip(bounds, bounds[1:], strict=False)]
        return list(self)

    @property
    def nbytes(self) -> int:
        """Bytes held: the UTF-8 ids and the offsets."""
        return len(self._data) + self._offsets.nbytes


class InputIdsBuilder:
    """Gathers ids, one at a time or as packed blocks (UTF-8 bytes and int32 offsets, as
    the C reader gives them), into one :class:`InputIds` (no Python object kept per id:
    a block is kept as it came, ids added one by one go into one buffer)."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, bytes]] = []
        self._data = bytearray()
        self._lengths = array("q")
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, input_id: str) -> None:
        data = input_id.encode()
        self._data += data
        self._lengths.append(len(data))
        self._count += 1

    def _close_singles(self) -> None:
        """The ids added one by one so far become a block."""
        if self._lengths:
            offsets = np.zeros(len(self._lengths) + 1, np.int64)
            np.cumsum(np.frombuffer(self._lengths, np.int64), out=offsets[1:])
            self._parts.append((offsets, bytes(self._data)))
            self._data, self._lengths = bytearray(), array("q")

    def extend_packed(
        self, offsets: np.ndarray, data: bytes, rows: np.ndarray | None = None
    ) -> None:
        """Add the ids of a block: id ``i`` is ``data[offsets[i]:offsets[i + 1]]``;
        ``rows``: only those (in order)."""
        self._close_singles()
        if rows is None:
            self._parts.append((offsets, data))
            self._count += len(offsets) - 1
            return
        view = memoryview(data)
        picked = b"".join(view[int(offsets[i]) : int(offsets[i + 1])] for i in rows.tolist())
        lengths = offsets[rows + 1] - offsets[rows]
        kept = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=kept[1:])
        self._parts.append((kept, picked))
        self._count += len(rows)

    def build(self) -> InputIds:
        """The ids gathered (the builder is empty after)."""
        self._close_singles()
        parts, self._parts, count = self._parts, [], self._count
        self._count = 0
        offsets = np.zeros(count + 1, np.int64)
        if count:
            lengths = np.concatenate([np.diff(o) for o, _ in parts])
            np.cumsum(lengths, out=offsets[1:])
        data = b"".join(d[int(o[0]) : int(o[-1])] for o, d in parts)
        return InputIds(data, offsets)
