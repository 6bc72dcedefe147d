"""The command line's words for the library's parameters.

Library errors name the parameter to change as Python spells it (``allow_empty=True``,
``to='coco'``, ``limits.max_entries``; see :func:`toolkit.errors.param`) and list those
spellings in ``ToolkitError.params``. :func:`in_flags` puts the flag in their place, so
the CLI's messages speak of ``--allow-empty``, ``--to coco`` and ``--max-entries``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ..errors import ToolkitError

#: Parameters whose flag is not ``--`` + the name with ``-`` for ``_`` (by their last
#: dotted part: ``limits.max_entries`` is ``max_entries``).
FLAGS: dict[str, str] = {
    "output": "-o",
    "report_path": "--report",
    "pat": "--pat-file",
    "archives": "--archive",
}


def flag(spelling: str) -> str:
    """The flag for one parameter as :func:`toolkit.errors.param` spells it:
    ``allow_empty=True`` -> ``--allow-empty``, ``to='coco'`` -> ``--to coco``,
    ``index=...`` -> ``--index``, ``limits.max_entries`` -> ``--max-entries``."""
    if spelling.startswith("-"):  # already a flag (a caller named its output ``-o``)
        return spelling
    name, sep, value = spelling.partition("=")
    name = name.rsplit(".", 1)[-1]
    option = FLAGS.get(name, "--" + name.replace("_", "-"))
    if not sep or value in ("True", "..."):
        return option
    try:
        shown = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        shown = value
    return f"{option} {shown}"


def in_flags(exc: ToolkitError) -> str:
    """The message of ``exc`` with each parameter it names written as the CLI's flag."""
    return with_flags(str(exc), exc.params)


def with_flags(message: str, params: Iterable[str]) -> str:
    """``message`` with each of ``params`` (as :func:`toolkit.errors.param` spells them)
    written as the CLI's flag: for library text other than errors (notes)."""
    for spelling in params:
        message = message.replace(spelling, flag(spelling))
    return message
