"""toolkit.input_ids: the compact ids that Archive.embeddings() returns."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.input_ids import InputIds, InputIdsBuilder

IDS = ["a", "", "é-ü", "in-0000003", "x" * 300]


@pytest.fixture(name="ids")
def _ids() -> InputIds:
    return InputIds.from_strings(IDS)


class TestSequence:
    def test_len_index_iter(self, ids) -> None:
        assert len(ids) == 5
        assert [ids[i] for i in range(5)] == IDS
        assert ids[-1] == IDS[-1] and ids[-5] == "a"
        assert list(ids) == IDS and ids.to_list() == IDS
        ascii_only = [i for i in IDS if i.isascii()]  # the one-decode path of to_list
        assert InputIds.from_strings(ascii_only).to_list() == ascii_only
        assert ids[1:4].to_list() == IDS[1:4]

    def test_out_of_range(self, ids) -> None:
        with pytest.raises(IndexError):
            ids[5]
        with pytest.raises(IndexError):
            ids[-6]

    def test_slices(self, ids) -> None:
        assert ids[1:3] == IDS[1:3] and isinstance(ids[1:3], InputIds)
        assert ids[::2] == IDS[::2] and ids[::-1] == IDS[::-1]
        assert ids[4:2] == [] and ids[-2:] == IDS[-2:]

    def test_equality(self, ids) -> None:
        assert ids == IDS and IDS == ids and ids == tuple(IDS)
        assert ids == InputIds.from_strings(IDS)
        assert ids != IDS[:-1] and ids != [*IDS[:-1], "y"]
        assert ids != "a" and ids != 5
        with pytest.raises(TypeError):
            hash(ids)

    def test_contains_and_index(self, ids) -> None:
        assert "é-ü" in ids and "b" not in ids
        assert ids.index("in-0000003") == 3 and ids.count("") == 1

    def test_repr_and_size(self, ids) -> None:
        assert repr(ids).startswith("InputIds(['a', '', 'é-ü', 'in-0000003', 'xxx")
        assert ids.nbytes == len("".join(IDS).encode()) + 6 * 8

    def test_empty(self) -> None:
        empty = InputIds()
        assert len(empty) == 0 and empty == [] and list(empty) == []

    def test_bad_offsets(self) -> None:
        with pytest.raises(ValueError, match="offsets"):
            InputIds(b"", np.zeros(0, np.int64))


class TestBuilder:
    def test_packed_blocks_and_single_ids(self) -> None:
        block = ["p0", "p1", "p22"]
        data = "".join(block).encode()
        offsets = np.array([0, 2, 4, 7], np.int32)
        builder = InputIdsBuilder()
        builder.append("first")
        builder.extend_packed(offsets, data)
        builder.extend_packed(offsets, data, rows=np.array([0, 2]))
        assert len(builder) == 6
        assert builder.build() == ["first", *block, "p0", "p22"]
        assert builder.build() == []  # empty after build
