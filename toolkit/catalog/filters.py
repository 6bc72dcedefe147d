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
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CatalogError, NotInCatalogError
from ..subset import FilterCriteria
from . import db as _db
from .refs import validate_id

if TYPE_CHECKING:
    from .catalog import Catalog

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


_COLUMNS = "id, description, criteria, created_at, modified_at"


class Filters:
    """``catalog.filters``: add, list, get and delete saved filters."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def _from_row(self, conn: sqlite3.Connection, row: Any) -> FilterInfo:
        used = tuple(
            r[0]
            for r in conn.execute(
                "SELECT id FROM datasets WHERE default_filter_id = ? ORDER BY id", (row[0],)
            )
        )
        return FilterInfo(
            id=row[0],
            description=row[1],
            criteria=criteria_from_dict(json.loads(row[2]), where=f"filter {row[0]!r}"),
            created_at=row[3],
            modified_at=row[4],
            used_by=used,
        )

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
        cat = self._catalog
        stamp = _db.now()
        with cat._writing() as txn:
            conn = txn.conn
            exists = conn.execute("SELECT 1 FROM filters WHERE id = ?", (filter_id,)).fetchone()
            if exists and not replace:
                raise CatalogError(
                    f"filter {filter_id!r} exists; pass --replace to change it, or choose "
                    "another id"
                )
            if exists:
                conn.execute(
                    "UPDATE filters SET description = ?, criteria = ?, modified_at = ? "
                    "WHERE id = ?",
                    (description, text, stamp, filter_id),
                )
            else:
                conn.execute(
                    f"INSERT INTO filters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                    (filter_id, description, text, stamp, stamp),
                )
        return self.get(filter_id)

    def list(self, *, page: int = 1, per_page: int = 100) -> list[FilterInfo]:
        """Saved filters by id, a page at a time.

        Example::

            for f in catalog.filters.list():
                print(f.id, f.criteria.to_dict())
        """
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        with self._catalog._reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM filters ORDER BY id LIMIT ? OFFSET ?",
                (per_page, (page - 1) * per_page),
            ).fetchall()
            return [self._from_row(conn, row) for row in rows]

    def get(self, filter_id: str) -> FilterInfo:
        """One saved filter; :class:`~toolkit.errors.NotInCatalogError` when there is none.

        Example::

            criteria = catalog.filters.get("has-boxes").criteria
        """
        with self._catalog._reading() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM filters WHERE id = ?", (filter_id,)
            ).fetchone()
            if row is None:
                raise NotInCatalogError(_missing(conn, filter_id))
            return self._from_row(conn, row)

    def delete(self, filter_id: str) -> FilterInfo:
        """Delete a saved filter that no dataset has as its default; return it as it was.

        Example::

            catalog.filters.delete("has-boxes")
        """
        info = self.get(filter_id)
        with self._catalog._writing() as txn:
            conn = txn.conn
            used = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM datasets WHERE default_filter_id = ? ORDER BY id",
                    (filter_id,),
                )
            ]
            if used:
                raise CatalogError(
                    f"filter {filter_id!r} is the default filter of {', '.join(used)}; "
                    "give them another one first (datasets patch ID --default-filter-id "
                    "OTHER, or '' for none)"
                )
            conn.execute("DELETE FROM filters WHERE id = ?", (filter_id,))
        return info


def _missing(conn: sqlite3.Connection, filter_id: str) -> str:
    known = [r[0] for r in conn.execute("SELECT id FROM filters ORDER BY id LIMIT 10")]
    hint = (
        f"saved filters: {', '.join(known)}"
        if known
        else "the catalog has none; save one with 'clarifai-archive filters add'"
    )
    return f"no saved filter {filter_id!r} in the catalog; {hint}"


def check_filter_exists(conn: sqlite3.Connection, filter_id: str) -> None:
    """A :class:`NotInCatalogError` when ``filter_id`` names no saved filter."""
    if conn.execute("SELECT 1 FROM filters WHERE id = ?", (filter_id,)).fetchone() is None:
        raise NotInCatalogError(_missing(conn, filter_id))


def default_filter(conn: sqlite3.Connection, dataset_id: str) -> FilterInfo | None:
    """The dataset's default filter (None when it has none)."""
    row = conn.execute(
        "SELECT default_filter_id FROM datasets WHERE id = ?", (dataset_id,)
    ).fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute(f"SELECT {_COLUMNS} FROM filters WHERE id = ?", (row[0],)).fetchone()
    if found is None:
        raise CatalogError(
            f"dataset {dataset_id!r}: its default filter {row[0]!r} is not in the catalog; "
            "save it with 'clarifai-archive filters add', or clear it with "
            f"'clarifai-archive datasets patch {dataset_id} --default-filter-id \"\"'"
        )
    return FilterInfo(
        id=found[0],
        description=found[1],
        criteria=criteria_from_dict(json.loads(found[2]), where=f"filter {found[0]!r}"),
        created_at=found[3],
        modified_at=found[4],
        used_by=(dataset_id,),
    )
