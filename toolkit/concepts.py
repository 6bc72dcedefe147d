"""Concepts named by a user: an id or a name, in any case, matched against labels.

Every command that takes ``--concept`` resolves it here, so they all agree: ``Ball``,
``ball`` and ``BALL`` name the concept whose id is ``ball`` or whose name is ``Ball``.
A key that names no concept in the archive is an :class:`~toolkit.errors.UnknownConceptError`
listing the closest known ids and names.

Example::

    keys = ConceptKeys(["Ball", "tree"])
    with ArchiveReader(path) as reader:
        for record in reader.iter_inputs():
            keys.observe(record)              # learn the archive's concepts
            if keys.any_positive(record):     # a positive label named by a key
                ...
    keys.check("export.zip")                  # UnknownConceptError for a key never seen
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from .errors import UnknownConceptError
from .messages import Concept, Input
from .records import iter_regions

__all__ = ["ConceptKeys", "iter_concepts", "unknown_concept_message"]

#: Concepts named in an error message, at most.
_SHOWN = 12
#: Suggestions for a key that names no concept.
_CLOSE = 3


def iter_concepts(record: Input) -> Iterator[Concept]:
    """Every concept label of an input: its own, its video frames', its regions'."""
    data = record.data
    yield from data.concepts
    for frame in data.frames:
        yield from frame.data.concepts
    for region in iter_regions(record):
        yield from region.data.concepts


class ConceptKeys:
    """Concept keys given by a user, each matching a concept id or name, case-insensitively.

    Matching is stateless (:meth:`matches`, :meth:`any_positive`); :meth:`observe` learns
    the archive's concepts so that :meth:`check` can say which keys name none of them.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys: tuple[str, ...] = tuple(dict.fromkeys(keys))
        self._folded = frozenset(key.casefold() for key in self.keys)
        #: Folded keys that named a concept seen by :meth:`observe` or a match.
        self._resolved: set[str] = set()
        #: Concept id -> name, for every concept seen while a key was unresolved.
        self._known: dict[str, str] = {}
        self._cache: dict[tuple[str, str], bool] = {}

    def __bool__(self) -> bool:
        return bool(self.keys)

    def matches(self, concept: Concept) -> bool:
        """True when ``concept``'s id or name is one of the keys (any case)."""
        pair = (concept.id, concept.name)
        hit = self._cache.get(pair)
        if hit is None:
            hit = concept.id.casefold() in self._folded or concept.name.casefold() in self._folded
            if len(self._cache) < 65536:
                self._cache[pair] = hit
        return hit

    def any_positive(self, record: Input) -> bool:
        """True when the input, one of its frames or regions has a positive label (value
        > 0) that a key names."""
        return any(c.value > 0 and self.matches(c) for c in iter_concepts(record))

    @property
    def complete(self) -> bool:
        """True once every key has named a concept seen."""
        return len(self._resolved) == len(self._folded)

    def observe(self, record: Input) -> None:
        """Learn the concepts of ``record`` (cheap once every key is resolved)."""
        if self.complete:
            return
        for concept in iter_concepts(record):
            if concept.id not in self._known:
                self._known[concept.id] = concept.name
                for text in (concept.id, concept.name):
                    folded = text.casefold()
                    if folded in self._folded:
                        self._resolved.add(folded)

    def unknown(self) -> list[str]:
        """The keys that named no concept observed, in the order given."""
        return [key for key in self.keys if key.casefold() not in self._resolved]

    def check(self, source: str) -> None:
        """Raise :class:`UnknownConceptError` when a key named no concept observed."""
        unknown = self.unknown()
        if unknown:
            raise UnknownConceptError(unknown_concept_message(source, unknown, self._known))


def unknown_concept_message(source: str, keys: list[str], known: dict[str, str]) -> str:
    """``source: no concept 'x' ...; did you mean ...? concepts here: ...``."""
    names = ", ".join(repr(key) for key in keys)
    subject = "concept" if len(keys) == 1 else "concepts"
    if not known:
        return f"{source}: no {subject} {names}: no input here has a concept label"
    # Suggestions compare folded texts but show the concept as the archive spells it.
    spelled: dict[str, str] = {}
    for concept_id, name in known.items():
        spelled.setdefault(concept_id.casefold(), concept_id)
        if name:
            spelled.setdefault(name.casefold(), name)
    close: list[str] = []
    for key in keys:
        for match in difflib.get_close_matches(key.casefold(), list(spelled), n=_CLOSE):
            if spelled[match] not in close:
                close.append(spelled[match])
    ids = sorted(known, key=str.casefold)
    listed = ", ".join(
        f"{i} ({known[i]})" if known[i] and known[i] != i else i for i in ids[:_SHOWN]
    )
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    return (
        f"{source}: no {subject} {names} (neither an id nor a name, in any case); "
        f"{hint}concepts here: {listed}{more}"
    )
