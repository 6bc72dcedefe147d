"""toolkit.concepts: a concept named by its id or its name, in any case."""

from __future__ import annotations

import pytest
from helpers import make_input

from toolkit.concepts import ConceptKeys
from toolkit.errors import UnknownConceptError
from toolkit.inputs import list_inputs
from toolkit.messages import Input


def _records() -> list[Input]:
    video = Input(id="vid")
    video.data.video.url = "https://example.com/v.mp4"
    video.data.frames.add().data.concepts.add(id="c-7", name="Red Car", value=1.0)
    return [
        make_input("a", image_bytes=b"1", concepts=[("ball", 1.0), ("person", 0.0)]),
        make_input("b", image_bytes=b"2", boxes=[("box", 0.1, 0.1, 0.5, 0.5)]),
        video,
    ]


@pytest.mark.parametrize(
    ("key", "ids"),
    [
        ("ball", ["a"]),
        ("Ball", ["a"]),
        ("BALL", ["a"]),
        ("Box", ["b"]),  # a region's label
        ("red car", ["vid"]),  # a frame's label, by name
        ("C-7", ["vid"]),  # ... or by id
        ("person", []),  # a negative label only
    ],
)
def test_any_positive(key, ids) -> None:
    keys = ConceptKeys([key])
    assert [r.id for r in _records() if keys.any_positive(r)] == ids


def test_check_names_the_unknown_keys_and_the_closest() -> None:
    keys = ConceptKeys(["Ball", "red cars", "zzz"])
    for record in _records():
        keys.observe(record)
    assert keys.unknown() == ["red cars", "zzz"] and not keys.complete
    with pytest.raises(UnknownConceptError) as caught:
        keys.check("x.zip")
    assert str(caught.value) == (
        "x.zip: no concepts 'red cars', 'zzz' (neither an id nor a name, in any case); did "
        "you mean 'Red Car'? concepts here: ball (Ball), box (Box), c-7 (Red Car), "
        "person (Person)"
    )


def test_known_keys_pass_the_check() -> None:
    keys = ConceptKeys(["PERSON", "red car"])
    for record in _records():
        keys.observe(record)
    assert keys.complete
    keys.check("x.zip")


def test_list_inputs_by_name_and_unknown() -> None:
    assert [r.id for r in list_inputs(_records(), concept="Red Car")] == ["vid"]
    # A known concept past the last page is an empty page, not an error.
    assert list_inputs(_records(), concept="ball", page=2, per_page=1) == []
    with pytest.raises(UnknownConceptError, match="did you mean 'ball'"):
        list_inputs(_records(), concept="bal", source="x.zip")
