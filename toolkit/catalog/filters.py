"""Saved filters: named :class:`~toolkit.subset.FilterCriteria` kept in the catalog.

A dataset's ``default_filter_id`` names one of them; ``datasets export`` and ``inputs
list DATASET`` then see only the inputs it keeps.

Example::

    catalog.filters.add("train-cats", FilterCriteria(concepts=("cat",),
                                                     metadata=(("split", "train"),)))
    catalog.datasets.patch("birds", default_filter_id="train-cats")
    catalog.filters.get("train-cats").criteria.matches(record)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from ..errors import CatalogError, NotInCatalogError
from ..subset import FilterCriteria
from .refs import validate_id
from .store import FilterRow, Session, Store

__all__ = ["FilterInfo", "Filters", "criteria_from_dict", "criteria_to_dict"]


def criteria_to_dict(criteria: FilterCriteria) -> dict[str, Any]:
    """Every criterion that is set, JSON-ready and complete (``ids`` as a sorted list),
    so that :func:`criteria_from_dict` gives the same criteria back."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(criteria):
        value = getattr(criteria, f.name)
        if value is None or value is False or value == ():
            continue
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[f.name] = value
    return out


def criteria_from_dict(data: dict[str, Any], *, where: str = "filter") -> FilterCriteria:
    """The :class:`FilterCriteria` a :func:`criteria_to_dict` dict describes."""
    names = {f.name for f in dataclasses.fields(FilterCriteria)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise CatalogError(
            f"{where}: unknown criterion {unknown[0]!r}; known: {', '.join(sorted(names))}"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name == "metadata":
            value = tuple((str(k), str(v)) for k, v in value)
        elif name == "ids":
            value = frozenset(str(v) for v in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return FilterCriteria(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class FilterInfo:
    """A saved filter: its id, description and criteria."""

    id: str
    description: str
    criteria: FilterCriteria
    created_at: str
    modified_at: str
    #: Datasets whose default filter this is.
    used_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``filters get --json`` prints)."""
        return {
            "id": self.id,
            "description": self.description,
            "criteria": criteria_to_dict(self.criteria),
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "used_by": list(self.used_by),
        }


class Filters:
    """``catalog.filters``: add, list, get and delete saved filters."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        filter_id: str,
        criteria: FilterCriteria,
        *,
        description: str = "",
        replace: bool = False,
    ) -> FilterInfo:
        """Save ``criteria`` as ``filter_id`` (an existing one only with ``replace``).

        Example::

            catalog.filters.add("has-boxes", FilterCriteria(has_regions=True))
        """
        validate_id(filter_id, what="filter id")
        if criteria.is_empty:
            raise CatalogError(
                f"filter {filter_id!r}: give at least one criterion (an empty filter keeps "
                "every input)"
            )
        text = json.dumps(criteria_to_dict(criteria), ensure_ascii=False, sort_keys=True)
        with self._store.writing() as txn:
            if txn.filter_row(filter_id) is not None and not replace:
                raise CatalogError(
                    f"filter {filter_id!r} exists; pass replace=True to change it, or choose "
                    "another id",
                    params=["replace=True"],
                )
            txn.save_filter(filter_id, description=description, criteria=text)
        return self.get(filter_id)

    def list(self, *, page: int = 1, per_page: int = 100) -> list[FilterInfo]:
        """Saved filters by id, a page at a time.

        Example::

            for f in catalog.filters.list():
                print(f.id, f.criteria.to_dict())
        """
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        with self._store.reading() as session:
            rows = session.filters(limit=per_page, offset=(page - 1) * per_page)
            return [_info(row, session.datasets_using_filter(row.id)) for row in rows]

    def get(self, filter_id: str) -> FilterInfo:
        """One saved filter; :class:`~toolkit.errors.NotInCatalogError` when there is none.

        Example::

            criteria = catalog.filters.get("has-boxes").criteria
        """
        with self._store.reading() as session:
            row = session.filter_row(filter_id)
            if row is None:
                raise NotInCatalogError(_missing(session, filter_id))
            return _info(row, session.datasets_using_filter(filter_id))

    def delete(self, filter_id: str) -> FilterInfo:
        """Delete a saved filter that no dataset has as its default; return it as it was.

        Example::

            catalog.filters.delete("has-boxes")
        """
        info = self.get(filter_id)
        with self._store.writing() as txn:
            used = txn.datasets_using_filter(filter_id)
            if used:
                raise CatalogError(
                    f"filter {filter_id!r} is the default filter of {', '.join(used)}; "
                    "give them another one first (datasets patch ID --default-filter-id "
                    "OTHER, or '' for none)"
                )
            txn.delete_filter(filter_id)
        return info


def _info(row: FilterRow, used_by: tuple[str, ...]) -> FilterInfo:
    return FilterInfo(
        id=row.id,
        description=row.description,
        criteria=criteria_from_dict(json.loads(row.criteria), where=f"filter {row.id!r}"),
        created_at=row.created_at,
        modified_at=row.modified_at,
        used_by=used_by,
    )


def _missing(session: Session, filter_id: str) -> str:
    known = session.filter_ids(limit=10)
    hint = (
        f"saved filters: {', '.join(known)}"
        if known
        else "the catalog has none; save one with 'clarifai-archive filters add'"
    )
    return f"no saved filter {filter_id!r} in the catalog; {hint}"


def check_filter_exists(session: Session, filter_id: str) -> None:
    """A :class:`NotInCatalogError` when ``filter_id`` names no saved filter."""
    if session.filter_row(filter_id) is None:
        raise NotInCatalogError(_missing(session, filter_id))


def default_filter(session: Session, dataset_id: str) -> FilterInfo | None:
    """The dataset's default filter (None when it has none)."""
    filter_id = session.default_filter_id(dataset_id)
    if not filter_id:
        return None
    row = session.filter_row(filter_id)
    if row is None:
        raise CatalogError(
            f"dataset {dataset_id!r}: its default filter {filter_id!r} is not in the catalog; "
            "save it with 'clarifai-archive filters add', or clear it with "
            f"'clarifai-archive datasets patch {dataset_id} --default-filter-id \"\"'"
        )
    return _info(row, (dataset_id,))
