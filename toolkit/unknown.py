"""Fields no schema of ours knows: found in messages, tallied, and described for a warning.

The schema (``proto/``) has every field of the pinned ``clarifai-grpc``. An archive from a
newer Clarifai may carry more: protobuf keeps them as unknown fields, so protobuf output
(a rewrite, a merge) keeps them, but they have no JSON form and every JSON output leaves
them out. This module says which inputs carry them and which field numbers.

Example::

    tally = UnknownFieldTally()
    for record in records:
        tally.add(record)
    found = tally.result()
    if found.inputs:
        print("Warning:", describe_unknown_fields(found))
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.protobuf import unknown_fields as _unknown_fields
from google.protobuf.message import Message

from .messages import Input

__all__ = [
    "UnknownFieldTally",
    "UnknownFields",
    "collecting_unknown_fields",
    "current_unknown_tally",
    "describe_unknown_fields",
    "find_unknown_fields",
]

_PACKAGE = "clarifai.api."
_EXAMPLES = 3


@dataclass(frozen=True)
class UnknownFields:
    """Inputs that carry fields the schema does not know."""

    #: How many inputs carry at least one.
    inputs: int = 0
    #: Where, sorted: ``"Data field 99"``, ``"Image field 42"``, ...
    fields: tuple[str, ...] = ()
    #: The ids of the first few such inputs.
    examples: tuple[str, ...] = ()


def find_unknown_fields(message: Message) -> set[tuple[str, int]]:
    """Every (message type, field number) of an unknown field in ``message`` or any
    message inside it. The type is the name without ``clarifai.api.`` (``Data``,
    ``status.Status``). Walks every set field: meant for inputs already suspected, or
    for a few (a page of ``inputs list``).

    Example::

        find_unknown_fields(record)   # {("Data", 99)}
    """
    found: set[tuple[str, int]] = set()
    _walk(message, found)
    return found


def _walk(message: Message, found: set[tuple[str, int]]) -> None:
    unknown = _unknown_fields.UnknownFieldSet(message)
    if len(unknown):
        name = message.DESCRIPTOR.full_name.removeprefix(_PACKAGE)
        # types-protobuf's UnknownFieldSet lacks __iter__; iteration goes by __getitem__.
        found.update((name, field.field_number) for field in unknown)  # type: ignore[attr-defined]
    for fdesc, value in message.ListFields():
        if fdesc.message_type is None:
            continue
        if not fdesc.is_repeated:
            _walk(value, found)
            continue
        values: Iterable[Message] = value
        if fdesc.message_type.GetOptions().map_entry:
            if fdesc.message_type.fields_by_name["value"].message_type is None:
                continue
            values = value.values()
        for item in values:
            _walk(item, found)


class UnknownFieldTally:
    """Counts the inputs with unknown fields and collects where they are."""

    def __init__(self) -> None:
        self._inputs = 0
        self._fields: set[tuple[str, int]] = set()
        self._examples: list[str] = []

    def add(self, record: Input) -> bool:
        """Look at one input; True when it carries unknown fields."""
        found = find_unknown_fields(record)
        if not found:
            return False
        self.add_found(record.id, found)
        return True

    def add_found(self, input_id: str, found: set[tuple[str, int]]) -> None:
        """Count one input whose unknown fields were found elsewhere."""
        self._inputs += 1
        self._fields |= found
        if len(self._examples) < _EXAMPLES:
            self._examples.append(input_id)

    def result(self) -> UnknownFields:
        """What was found so far."""
        fields = tuple(f"{name} field {number}" for name, number in sorted(self._fields))
        return UnknownFields(self._inputs, fields, tuple(self._examples))


_TALLY: contextvars.ContextVar[UnknownFieldTally | None] = contextvars.ContextVar(
    "toolkit_unknown_tally", default=None
)


@contextlib.contextmanager
def collecting_unknown_fields() -> Iterator[UnknownFieldTally]:
    """Within the block, every input a JSON-flavour :class:`~toolkit.archive.ArchiveWriter`
    writes is looked at, and those with fields the schema does not know (which JSON
    leaves out) are counted in the tally yielded (``merge``, ``filter``, ``split``... with
    ``flavour="json"``).

    Example::

        with collecting_unknown_fields() as tally:
            filter_inputs("a.zip", "b.zip", criteria=criteria, flavour="json")
        print(describe_unknown_fields(tally.result()))
    """
    tally = UnknownFieldTally()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


def current_unknown_tally() -> UnknownFieldTally | None:
    """The tally of the enclosing :func:`collecting_unknown_fields`, if any."""
    return _TALLY.get()


def describe_unknown_fields(found: UnknownFields) -> str:
    """One sentence for a warning about JSON output (empty when nothing was found).

    Example::

        describe_unknown_fields(UnknownFields(3, ("Data field 99",), ("a",)))
        # "3 inputs (e.g. 'a') carry fields this schema does not know (Data field 99);
        #  JSON output leaves them out, protobuf output keeps them"
    """
    if not found.inputs:
        return ""
    many = found.inputs != 1
    who = f"{found.inputs} input{'s' if many else ''}"
    if found.examples:
        who += f" (e.g. {', '.join(repr(i) for i in found.examples)})"
    return (
        f"{who} {'carry' if many else 'carries'} fields this schema does not know "
        f"({', '.join(found.fields)}); JSON output leaves them out, protobuf output keeps them"
    )
