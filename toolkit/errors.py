"""Errors raised by the toolkit.

Every expected failure is a :class:`ToolkitError`; the CLI prints it as one
``Error: ...`` line and exits 1. The message names the file, entry or input and
says what to do.

::

    ToolkitError
     ├── ArchiveError            the archive cannot be read as a Clarifai export
     │    └── EmptyArchiveError  the archive holds no inputs
     ├── LimitError              a safety limit was exceeded (zip bomb, huge entry, deep metadata)
     ├── EmptyResultError        the output would hold no inputs (allow_empty to write it)
     ├── UnknownConceptError     a concept given is neither an id nor a name in the archive
     ├── InputNotFoundError      no input with that id
     ├── SchemaError             a record does not have the shape the operation needs
     ├── OutputError             the output cannot be written where asked
     ├── ConflictError           two sources disagree about one input id
     ├── MediaError              media could not be read or fetched
     ├── IndexMismatchError      an index and its sidecar, vectors or query disagree
     └── CatalogError            the local catalog refused an operation
          └── NotInCatalogError  no such dataset or version in the catalog
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ArchiveError",
    "CatalogError",
    "ConflictError",
    "EmptyArchiveError",
    "EmptyResultError",
    "IndexMismatchError",
    "InputNotFoundError",
    "LimitError",
    "MediaError",
    "NotInCatalogError",
    "OutputError",
    "SchemaError",
    "ToolkitError",
    "UnknownConceptError",
    "one_line",
    "param",
    "params_of",
    "quote_path",
]

#: Characters that would break a one-line message (line ends, other C0/C1 controls).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def quote_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows it: as it is when plainly printable, else quoted with
    Python's escapes (``'a\\nb'``), so a newline in a name cannot split an ``Error:`` line.

    Example::

        raise OutputError(f"{quote_path(output)}: is a folder; give a file name")
    """
    text = os.fspath(path)
    if isinstance(text, bytes):  # pragma: no cover - the toolkit passes str paths
        text = os.fsdecode(text)
    if text.isprintable() and text == text.strip() and text:
        return text
    return repr(text)


def one_line(message: str) -> str:
    """``message`` with line ends and other control characters escaped (``\\n``): what
    the CLI prints after ``Error:``, one line whatever a path or id in it holds."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose.

    A message that tells the caller which setting to change names it as a Python
    parameter, spelled as :func:`param` writes it (``allow_empty=True``,
    ``limits.max_entries``), and lists those spellings in ``params``; the CLI puts its
    own flag in their place (``--allow-empty``, ``--max-entries``).

    Example::

        hint = param("allow_empty")
        raise EmptyArchiveError(f"a.zip: holds no inputs; pass {hint} to accept it", params=[hint])
    """

    def __init__(self, *args: object, params: Sequence[str] = ()) -> None:
        super().__init__(*args)
        #: The parameters the message names, as :func:`param` spells them.
        self.params: tuple[str, ...] = tuple(params)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep ``params`` across processes (the parallel converters pickle errors).
        return (_rebuild, (type(self), self.args, self.params))


def _rebuild(
    cls: type[ToolkitError], args: tuple[object, ...], params: tuple[str, ...]
) -> ToolkitError:
    return cls(*args, params=params)


def params_of(exc: BaseException) -> tuple[str, ...]:
    """The parameters ``exc`` names (its ``params``; none for other exceptions): for an
    error that wraps another and keeps its message."""
    params = getattr(exc, "params", ())
    return tuple(params) if isinstance(params, tuple) else ()


def param(name: str, value: object = True) -> str:
    """How a message names a parameter: ``name=value`` (``allow_empty=True``,
    ``to='coco'``), ``name=...`` with ``value=...`` (any value: ``index=...``, the CLI's
    flag alone), or ``name`` alone with ``value=None`` (``limits.max_entries``)."""
    if value is None:
        return name
    if value is ...:
        return f"{name}=..."
    return f"{name}={value!r}"


class ArchiveError(ToolkitError):
    """The file is not a readable Clarifai dataset export."""


class EmptyArchiveError(ArchiveError):
    """The archive is well formed but holds no inputs."""


class EmptyResultError(ToolkitError):
    """The output of an operation would hold no inputs; nothing was written.

    Operations that write archives refuse an empty result unless called with
    ``allow_empty=True`` (the CLI's ``--allow-empty``): an empty output is far more
    often a typo in a criterion than what was wanted.
    """


class UnknownConceptError(ToolkitError):
    """A concept given is neither the id nor the name of any concept in the archive."""


class LimitError(ToolkitError):
    """A safety limit was exceeded; the message names the option that raises it."""


class InputNotFoundError(ToolkitError):
    """No input with the requested id."""


class SchemaError(ToolkitError):
    """A record lacks what an operation needs (for example an embedding)."""


class OutputError(ToolkitError):
    """The output path is unusable (exists, equals a source, not writable)."""


class ConflictError(ToolkitError):
    """Two sources hold different inputs under one id."""


class MediaError(ToolkitError):
    """Media bytes are unreadable, or a download failed."""


class IndexMismatchError(ToolkitError):
    """An index does not match its sidecar, its vectors or a query."""


class CatalogError(ToolkitError):
    """The local catalog refused an operation."""


class NotInCatalogError(CatalogError):
    """No such dataset or version in the catalog."""
