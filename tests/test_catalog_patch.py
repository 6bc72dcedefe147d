"""Clarifai's patch semantics, and catalog references and ids."""

from __future__ import annotations

import pytest

from toolkit.catalog import (
    CatalogRef,
    apply_patch,
    derived_version_id,
    merge_value,
    parse_ref,
    version_id_from_file_name,
)
from toolkit.catalog.refs import ID_PATTERN, unique_id, validate_id
from toolkit.errors import CatalogError

# The examples of Clarifai's "Patching" page (API guide, advanced topics): A is patched
# into B to give the result.
CLARIFAI_MERGE_EXAMPLES = [
    pytest.param(
        {"a": [1, 2, 3]}, {"blah": True}, {"blah": True, "a": [1, 2, 3]}, id="different-keys"
    ),
    pytest.param(
        {"a": [{"id": 1}]},
        {"a": [{"id": 2}]},
        {"a": [{"id": 2}, {"id": 1}]},
        id="id-lists-append",
    ),
    pytest.param(
        {"a": [{"id": "1"}], "blah": 1},
        {"a": [{"id": "2"}], "blah": "string"},
        {"a": [{"id": "2"}, {"id": "1"}], "blah": 1},
        id="different-types-overwrite",
    ),
    pytest.param(
        {"a": [{"id": "1", "hey": True}], "blah": 1},
        {"a": [{"id": "1", "foo": "bar", "hey": False}, {"id": "2"}], "blah": "string"},
        {"a": [{"hey": True, "id": "1", "foo": "bar"}, {"id": "2"}], "blah": 1},
        id="deep-merge-by-id",
    ),
    pytest.param(
        {"a": [{"blah": "1"}], "blah": 1},
        {"a": [{"blah": "2"}], "blah": "string"},
        {"a": [{"blah": "2"}, {"blah": "1"}], "blah": 1},
        id="non-id-lists-append",
    ),
    pytest.param(
        {"a": [{"blah": "1"}], "blah": 1, "dict": {"a": 1, "b": 2}},
        {"a": [{"blah": "2"}], "blah": "string"},
        {"a": [{"blah": "2"}, {"blah": "1"}], "blah": 1, "dict": {"a": 1, "b": 2}},
        id="non-id-lists-append-new-object",
    ),
    pytest.param(
        {"key1": True}, {"key1": {"key2": "value"}}, {"key1": True}, id="overwrite-root-element"
    ),
]


class TestMergeValue:
    @pytest.mark.parametrize(("patch", "old", "expected"), CLARIFAI_MERGE_EXAMPLES)
    def test_clarifai_documentation_examples(self, patch, old, expected):
        assert merge_value(old, patch) == expected

    def test_simple_merge_within_a_list_keeps_the_patched_value(self):
        # The documentation's "simple merge of key:values and within a list" prints the
        # merged item without its "other" key; the deep-merge example shows that items
        # sharing an id merge key by key, which is what the catalog does.
        old = {"a": [{"id": "2"}, {"id": "1", "other": False}]}
        patch = {"a": [{"id": "1", "other": True}], "blah": 1}
        assert merge_value(old, patch) == {
            "a": [{"id": "2"}, {"id": "1", "other": True}],
            "blah": 1,
        }

    def test_objects_merge_recursively(self):
        old = {"x": {"y": {"z": 1, "w": 2}, "keep": True}}
        patch = {"x": {"y": {"z": 5, "new": [1]}}}
        assert merge_value(old, patch) == {"x": {"y": {"z": 5, "w": 2, "new": [1]}, "keep": True}}

    def test_nested_id_lists_merge_recursively(self):
        old = {"l": [{"id": "a", "m": {"p": 1}, "t": [1]}]}
        patch = {"l": [{"id": "a", "m": {"q": 2}, "t": [2]}]}
        assert merge_value(old, patch) == {"l": [{"id": "a", "m": {"p": 1, "q": 2}, "t": [1, 2]}]}

    def test_numeric_and_string_ids_differ(self):
        assert merge_value([{"id": 1, "v": 1}], [{"id": "1", "w": 2}]) == [
            {"id": 1, "v": 1},
            {"id": "1", "w": 2},
        ]

    def test_inputs_are_not_modified(self):
        old = {"a": [{"id": "1", "x": {"k": 1}}]}
        patch = {"a": [{"id": "1", "x": {"j": 2}}]}
        result = merge_value(old, patch)
        result["a"][0]["x"]["k"] = 99
        assert old == {"a": [{"id": "1", "x": {"k": 1}}]}
        assert patch == {"a": [{"id": "1", "x": {"j": 2}}]}

    def test_null_replaces(self):
        assert merge_value({"a": {"b": 1}}, {"a": None}) == {"a": None}


class TestApplyPatch:
    current = {
        "description": "old",
        "notes": "old notes",
        "metadata": {"lol": "hey", "tags": ["a"]},
        "image": {"url": "https://example.com/a.png"},
        "default_filter_id": "",
    }

    def test_merge_replaces_scalars_and_merges_metadata(self):
        out = apply_patch(
            self.current,
            {"description": "new", "notes": "n", "metadata": {"foo": "bar", "tags": ["b"]}},
            action="merge",
        )
        assert out["description"] == "new"
        assert out["notes"] == "n"
        assert out["metadata"] == {"lol": "hey", "foo": "bar", "tags": ["a", "b"]}
        assert out["image"] == {"url": "https://example.com/a.png"}

    def test_overwrite_replaces_the_metadata_object(self):
        # Clarifai's "Update Datasets" example: overwrite description and metadata.
        out = apply_patch(
            self.current,
            {"description": "This is the new foo dataset", "metadata": {"foo": "bar"}},
            action="overwrite",
        )
        assert out["description"] == "This is the new foo dataset"
        assert out["metadata"] == {"foo": "bar"}
        assert out["notes"] == "old notes"

    def test_merge_replaces_a_cover_image_as_a_whole(self):
        out = apply_patch(self.current, {"image": {"file": "covers/x.png"}}, action="merge")
        assert out["image"] == {"file": "covers/x.png"}

    def test_remove_removes_only_the_cover_image(self):
        out = apply_patch(self.current, {}, action="remove")
        assert out["image"] is None
        assert {k: v for k, v in out.items() if k != "image"} == {
            k: v for k, v in self.current.items() if k != "image"
        }

    def test_remove_refuses_other_fields(self):
        with pytest.raises(ValueError, match="only removes the cover image"):
            apply_patch(self.current, {"notes": "x"}, action="remove")

    def test_unknown_action(self):
        with pytest.raises(ValueError, match="unknown patch action"):
            apply_patch(self.current, {}, action="replace")  # type: ignore[arg-type]

    def test_merge_into_a_missing_value_sets_it(self):
        out = apply_patch({"image": None}, {"image": {"url": "u"}}, action="merge")
        assert out == {"image": {"url": "u"}}


class TestRefs:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("birds", CatalogRef("birds")),
            ("birds@v1", CatalogRef("birds", "v1")),
            (
                "my_data-2.0@clarifai-data-protobuf-2",
                CatalogRef("my_data-2.0", "clarifai-data-protobuf-2"),
            ),
        ],
    )
    def test_parse(self, text, expected):
        assert parse_ref(text) == expected
        assert str(parse_ref(text)) == text

    @pytest.mark.parametrize(
        "text", ["", "@v1", "birds@", "a/b", "../x", "birds@v1@v2", ".hidden", "x" * 129, "a b"]
    )
    def test_parse_rejects(self, text):
        with pytest.raises(CatalogError):
            parse_ref(text)

    def test_validate_id_message_says_what_is_allowed(self):
        with pytest.raises(CatalogError, match="letters, digits"):
            validate_id("bad/id", what="dataset id")

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("clarifai-data-protobuf.zip", "clarifai-data-protobuf"),
            ("clarifai-data-protobuf (1).zip", "clarifai-data-protobuf-1"),
            ("Export 2024.05.ZIP", "Export-2024.05"),
            ("..weird..name...zip", "weird..name"),
            ("données.zip", "donn-es"),
            ("%%%.zip", "version"),
            ("x" * 300 + ".zip", "x" * 120),
        ],
    )
    def test_version_id_from_file_name(self, name, expected):
        got = version_id_from_file_name(name)
        assert got == expected
        assert ID_PATTERN.fullmatch(got)

    def test_unique_id(self):
        assert unique_id("v", set()) == "v"
        assert unique_id("v", {"v", "v-2"}) == "v-3"

    def test_derived_version_ids(self):
        assert derived_version_id("v1", "del", {"v1"}) == "v1-del1"
        assert derived_version_id("v1-del1", "del", {"v1", "v1-del1"}) == "v1-del2"
        assert derived_version_id("v1-del2", "merge", {"v1-merge1"}) == "v1-merge2"
        with pytest.raises(ValueError):
            derived_version_id("v1", "copy", set())
