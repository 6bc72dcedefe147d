"""The check of the public API's types (tests/typecheck/public_api.py, run by mypy in .ci/run)
names every public name that loads lazily, the ones a type checker would otherwise see as Any."""

from __future__ import annotations

import re
from pathlib import Path

import toolkit

CHECK = Path(__file__).parent / "typecheck" / "public_api.py"


def checked_names() -> set[str]:
    """The names the check uses as ``toolkit.NAME`` (not its ``from toolkit.x import``)."""
    return set(re.findall(r"(?<!from )\btoolkit\.(\w+)", CHECK.read_text(encoding="utf-8")))


def test_every_lazy_public_name_has_its_type_checked() -> None:
    assert set(toolkit._LAZY_NAMES) - checked_names() == set()


def test_the_check_names_only_real_public_names() -> None:
    assert checked_names() - set(toolkit.__all__) == set()
