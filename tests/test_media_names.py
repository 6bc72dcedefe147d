"""FileNamer: ids from an untrusted archive never escape the folder or share a file."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.media import MAX_NAME_BYTES, FileNamer

_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)


def assert_safe(name: str) -> None:
    assert name not in ("", ".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert all(ch.isprintable() for ch in name), name
    assert not name.startswith((".", "-"))
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert not _RESERVED.match(name.split(".", 1)[0])
    assert unicodedata.normalize("NFC", name) == name


def test_plain_ids_are_kept() -> None:
    namer = FileNamer()
    assert namer.name_for("img-0001", "png") == "img-0001.png"
    assert namer.name_for("a.b_c-D", "jpg") == "a.b_c-D.jpg"
    assert namer.name_for("ünïcode", "jpg") == "ünïcode.jpg"


def test_the_same_id_keeps_its_stem_across_extensions() -> None:
    namer = FileNamer()
    assert namer.name_for("x", "png") == "x.png"
    assert namer.name_for("x", "json") == "x.json"
    assert namer.stem_for("x") == "x"
    assert len(namer) == 1


@pytest.mark.parametrize(
    "input_id",
    [
        "../../etc/passwd",
        "..",
        ".",
        "",
        "/abs/path",
        "a/b",
        "a\\b",
        "C:\\Windows\\system32",
        "NUL\x00x",
        "nul",
        "CON.txt",
        "com1",
        "LPT9",
        "-rf",
        ".hidden",
        "trailing. ",
        "line\nbreak",
        "tab\there",
        "\u202eevil-rtl",
        "e\u0301",  # NFD
        "x" * 1000,
        "é" * 300,
        "😀" * 80,
    ],
)
def test_hostile_ids_become_safe_names(input_id: str, tmp_path: Path) -> None:
    name = FileNamer().name_for(input_id, "jpg")
    assert_safe(name)
    # Writing under that name lands directly inside the folder.
    target = tmp_path / name
    target.write_bytes(b"x")
    assert target.resolve().parent == tmp_path.resolve()
    assert os.listdir(tmp_path) == [name]


def test_changed_ids_carry_a_hash_of_the_raw_id() -> None:
    namer = FileNamer()
    a = namer.stem_for("a/b")
    b = namer.stem_for("a\\b")
    c = namer.stem_for("a_b")
    assert c == "a_b"
    assert a.startswith("a_b-") and b.startswith("a_b-")
    assert len({a.casefold(), b.casefold(), c.casefold()}) == 3


def test_ids_that_differ_only_in_case_get_different_files() -> None:
    namer = FileNamer()
    first = namer.name_for("Cat", "png")
    second = namer.name_for("cat", "png")
    third = namer.name_for("CAT", "png")
    assert first == "Cat.png"
    assert second.startswith("cat-") and third.startswith("CAT-")
    assert len({first.casefold(), second.casefold(), third.casefold()}) == 3


def test_an_id_that_mimics_a_hashed_name_still_gets_its_own() -> None:
    namer = FileNamer()
    hashed = namer.stem_for("a/b")
    mimic = namer.stem_for(hashed)
    other_case = namer.stem_for(hashed.upper())
    assert len({hashed.casefold(), mimic.casefold(), other_case.casefold()}) == 3


def test_long_ids_are_cut_with_a_hash_and_stay_unique() -> None:
    namer = FileNamer()
    stems = [namer.stem_for("x" * 300 + str(n)) for n in range(5)]
    assert len(set(stems)) == 5
    for stem in stems:
        assert len(f"{stem}.jpeg".encode()) <= MAX_NAME_BYTES


def test_deterministic_for_the_same_sequence() -> None:
    ids = ["a", "A", "a/b", "a_b", "../x", "x" * 400, "nul", "NUL"]
    first = [FileNamer().stem_for(i) for i in ids]
    namer1, namer2 = FileNamer(), FileNamer()
    assert [namer1.stem_for(i) for i in ids] == [namer2.stem_for(i) for i in ids]
    # Stems of changed ids do not depend on what came before.
    assert FileNamer().stem_for("a/b") == first[2]


@pytest.mark.parametrize("ext", ["", "PNG", ".png", "png/x", "p" * 11, "jp g"])
def test_bad_extensions_are_refused(ext: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        FileNamer().name_for("a", ext)


_ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=260
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(_ids, min_size=1, max_size=30, unique=True))
def test_any_ids_give_safe_unique_names(ids: list[str]) -> None:
    namer = FileNamer()
    names = [namer.name_for(i, "jpeg") for i in ids]
    for name in names:
        assert_safe(name)
    assert len({n.casefold() for n in names}) == len(ids)
    again = FileNamer()
    assert [again.name_for(i, "jpeg") for i in ids] == names
