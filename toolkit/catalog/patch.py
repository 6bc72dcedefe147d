"""Clarifai's PATCH semantics (actions ``merge``, ``overwrite`` and ``remove``) on JSON values.

Clarifai's documentation ("Patching", API guide) describes ``merge`` by examples where
A is patched into B: a scalar replaces the old value, objects merge key by key (deeply),
lists are appended to, and list items that are objects sharing an ``id`` merge key by
key instead of being appended. ``overwrite`` replaces each given field as a whole.
For datasets, ``remove`` only removes the cover image.

Example::

    merge_value({"a": [{"id": "2"}]}, {"a": [{"id": "1"}]})   # {"a": [{"id": "2"}, {"id": "1"}]}
    apply_patch(fields, {"notes": "..."}, action="merge")
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["PATCH_ACTIONS", "PatchAction", "apply_patch", "merge_value"]

PatchAction = Literal["merge", "overwrite", "remove"]
PATCH_ACTIONS: tuple[PatchAction, ...] = ("merge", "overwrite", "remove")
#: Fields patched as one value by every action: a new cover image replaces the old one
#: (a file and a URL are two ways to give one image, never merged together).
_ATOMIC_FIELDS = frozenset({"image"})


def _has_id(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value


def _merge_list(old: list[Any], new: list[Any]) -> list[Any]:
    out = [copy.deepcopy(item) for item in old]
    positions: dict[Any, int] = {}
    for n, item in enumerate(out):
        if _has_id(item):
            key = _id_key(item["id"])
            positions.setdefault(key, n)
    for item in new:
        if _has_id(item):
            key = _id_key(item["id"])
            at = positions.get(key)
            if at is not None:
                out[at] = merge_value(out[at], item)
                continue
            positions[key] = len(out)
        out.append(copy.deepcopy(item))
    return out


def _id_key(value: Any) -> Any:
    # ids are usually strings; numbers and other JSON values compare by their JSON text
    return value if isinstance(value, str) else ("json", repr(value))


def merge_value(old: Any, new: Any) -> Any:
    """``new`` merged into ``old`` by Clarifai's ``merge`` rules; neither is modified.

    Example::

        merge_value({"a": 1, "d": {"x": 1}}, {"d": {"y": 2}})   # {"a": 1, "d": {"x": 1, "y": 2}}
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = {k: copy.deepcopy(v) for k, v in old.items()}
        for key, value in new.items():
            out[key] = merge_value(old[key], value) if key in old else copy.deepcopy(value)
        return out
    if isinstance(old, list) and isinstance(new, list):
        return _merge_list(old, new)
    return copy.deepcopy(new)


def apply_patch(
    current: Mapping[str, Any], changes: Mapping[str, Any], *, action: PatchAction
) -> dict[str, Any]:
    """The fields of ``current`` after patching ``changes`` in with ``action``.

    ``merge`` merges each given field into the old value (:func:`merge_value`),
    ``overwrite`` replaces each given field as a whole, ``remove`` removes the cover
    image (``image``) and accepts no other field. Fields not in ``changes`` keep
    their value. A cover image (``image``) is always replaced as one value.

    Example::

        apply_patch({"metadata": {"a": 1}}, {"metadata": {"b": 2}}, action="overwrite")
        # {"metadata": {"b": 2}}
    """
    if action not in PATCH_ACTIONS:
        raise ValueError(f"unknown patch action {action!r}; use merge, overwrite or remove")
    out = {k: copy.deepcopy(v) for k, v in current.items()}
    if action == "remove":
        extra = sorted(set(changes) - {"image"})
        if extra:
            raise ValueError(
                "the remove action only removes the cover image; it cannot remove "
                + ", ".join(extra)
            )
        out["image"] = None
        return out
    for key, value in changes.items():
        if action == "overwrite" or key in _ATOMIC_FIELDS or out.get(key) is None:
            out[key] = copy.deepcopy(value)
        else:
            out[key] = merge_value(out[key], value)
    return out
