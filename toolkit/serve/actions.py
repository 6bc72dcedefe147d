"""What the web app does to a selection of inputs: each action is one library call, the
one the matching command makes, and comes back with that command line and its report.

Outputs go into one output root chosen when the server starts; the browser only names
a file or folder *inside* it (one plain name, checked here), never a path. The ids of
the selection are written next to the output (``<name>.ids.txt``), so the command line
shown can be run again as it is.

Example::

    actions = Actions(source=Path("export.zip"), output_root=Path("."))
    result = actions.export(["img-0001", "img-0002"], to="coco", name="picked")
    print(result.command, result.report["images"])
"""

from __future__ import annotations

import re
import shlex
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from ..limits import DEFAULT_LIMITS, Limits
from ..subset import FilterCriteria, filter_inputs, remove_inputs

if TYPE_CHECKING:
    from ..catalog import Catalog

__all__ = ["ActionResult", "Actions", "check_output_name"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_CONFLICTS = ("error", "skip", "overwrite", "rename")


@dataclass(frozen=True)
class ActionResult:
    """What an action did: the command line that does the same, its output and report."""

    action: str
    command: str
    output: str
    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "action": self.action,
            "command": self.command,
            "output": self.output,
            "report": self.report,
        }


def check_output_name(name: str) -> str:
    """``name`` when it is one plain file or folder name (letters, digits, ``.``, ``_``,
    ``-``; not starting with a dot or dash; no ``..``); else :class:`OutputError`."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise OutputError(
            f"{name!r} is not a plain output name: use letters, digits, '.', '_' and '-' "
            "(at most 100, starting with a letter or digit); outputs go into the output folder"
        )
    return name


def _q(value: object) -> str:
    return shlex.quote(str(value))


class Actions:
    """Runs the actions on ``source`` (an archive file; ``ref`` when it is a catalog
    version), writing under ``output_root``."""

    def __init__(
        self,
        *,
        source: Path,
        output_root: Path,
        ref: str | None = None,
        catalog: Catalog | None = None,
        home: Path | None = None,
        limits: Limits = DEFAULT_LIMITS,
        pat: str | None = None,
    ) -> None:
        self.source = source
        self.output_root = Path(output_root).resolve()
        self.ref = ref
        self._catalog = catalog
        self.home = home
        self.limits = limits
        self._pat = pat

    def __repr__(self) -> str:  # never shows the key
        return f"<Actions {str(self.source)!r} -> {str(self.output_root)!r}>"

    # -- helpers -----------------------------------------------------------------------

    @property
    def shown_source(self) -> str:
        """The source as the user named it: a catalog reference, or the archive's path."""
        return self.ref if self.ref is not None else str(self.source)

    def _prog(self) -> str:
        return "clarifai-archive" + (f" --home {_q(self.home)}" if self.home else "")

    def _dest(self, name: str, *, suffix: str = "") -> Path:
        name = check_output_name(name)
        if suffix and not name.lower().endswith(suffix):
            name += suffix
        dest = (self.output_root / name).resolve()
        if dest.parent != self.output_root:  # pragma: no cover - the name rules exclude it
            raise OutputError(f"{name!r}: outside the output folder")
        if dest.exists() or dest.is_symlink():
            raise OutputError(
                f"{dest}: already exists; choose another name (nothing was overwritten)"
            )
        return dest

    def _ids_file(self, stem: str, ids: Sequence[str]) -> Path:
        path = self.output_root / f"{stem}.ids.txt"
        if path.exists() or path.is_symlink():
            path = self.output_root / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.ids.txt"
        self.output_root.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
        return path

    def _catalog_needed(self) -> Catalog:
        if self._catalog is None:
            from ..catalog import Catalog

            self._catalog = Catalog(self.home, limits=self.limits)
        return self._catalog

    @staticmethod
    def _check_ids(ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(str(i) for i in ids))
        if not wanted:
            raise OutputError("the selection is empty; select some inputs first")
        return wanted

    # -- actions on files ------------------------------------------------------------------

    def export(
        self, ids: Sequence[str], *, to: str, name: str, media: str = "none"
    ) -> ActionResult:
        """The selected inputs in format ``to`` (those of ``convert``) at ``name`` in the output
        folder: ``filter --ids-from`` then ``convert``, as the command line shows."""
        from ..convert import FORMATS, ConvertOptions, convert_archives

        fmt = FORMATS.get(to)
        if fmt is None:
            raise OutputError(f"unknown format {to!r}; choose one of {', '.join(FORMATS)}")
        if media != "none" and not fmt.supports_media:
            media = "none"
        wanted = self._check_ids(ids)
        suffix = {"jsonl": ".jsonl"}.get(to, "" if fmt.output_kind == "folder" else ".zip")
        dest = self._dest(name, suffix=suffix)
        criteria = FilterCriteria().with_ids(wanted)
        with tempfile.TemporaryDirectory(prefix=".serve-", dir=self.output_root) as tmp:
            selection = Path(tmp) / "selection.zip"
            filtered = filter_inputs(self.source, selection, criteria=criteria, limits=self.limits)
            options = ConvertOptions(
                media=media,  # type: ignore[arg-type]
                pat=self._pat if media == "download" else None,
                allow_missing=True,
                limits=self.limits,
            )
            report = convert_archives([selection], dest, to=to, options=options)
        ids_file = self._ids_file(dest.name, wanted)
        out = report.to_dict()
        out["sources"] = [self.shown_source]
        out["selected"] = len(wanted)
        out["found"] = filtered.inputs_written
        media_opt = f" --media {media} --allow-missing" if media != "none" else ""
        command = (
            f"{self._prog()} filter {_q(self.shown_source)} --ids-from {_q(ids_file)} "
            f"-o selection.zip && {self._prog()} convert selection.zip --to {to} "
            f"-o {_q(dest)}{media_opt}"
        )
        return ActionResult("export", command, str(dest), out)

    def write_without(self, ids: Sequence[str], *, name: str) -> ActionResult:
        """An archive without the selected inputs (``clarifai-archive remove``)."""
        wanted = self._check_ids(ids)
        dest = self._dest(name, suffix=".zip")
        report = remove_inputs(self.source, dest, wanted, limits=self.limits)
        ids_file = self._ids_file(dest.name, wanted)
        out = report.to_dict()
        out["source"] = self.shown_source
        command = (
            f"{self._prog()} remove {_q(self.shown_source)} --ids-from {_q(ids_file)} -o {_q(dest)}"
        )
        return ActionResult("remove", command, str(dest), out)

    def write_only(self, ids: Sequence[str], *, name: str) -> ActionResult:
        """An archive of the selected inputs only (``clarifai-archive filter --ids-from``)."""
        wanted = self._check_ids(ids)
        dest = self._dest(name, suffix=".zip")
        criteria = FilterCriteria().with_ids(wanted)
        report = filter_inputs(self.source, dest, criteria=criteria, limits=self.limits)
        ids_file = self._ids_file(dest.name, wanted)
        out = report.to_dict()
        out["source"] = self.shown_source
        command = (
            f"{self._prog()} filter {_q(self.shown_source)} --ids-from {_q(ids_file)} -o {_q(dest)}"
        )
        return ActionResult("filter", command, str(dest), out)

    # -- actions on the catalog --------------------------------------------------------------

    def _derived(self, action: str, made: Any, command: str) -> ActionResult:
        report: dict[str, Any] = {
            "version": made.version.to_dict(metrics=False),
            "parent": made.parent.ref,
            "inputs_count": made.version.inputs_count,
        }
        if made.missing_ids:
            report["missing_ids"] = list(made.missing_ids)
        if made.report is not None and hasattr(made.report, "to_dict"):
            report["report"] = made.report.to_dict()
        return ActionResult(action, command, made.version.ref, report)

    def version_without(self, ids: Sequence[str], *, all_ids: Sequence[str]) -> ActionResult:
        """A new catalog version without the selected inputs (``inputs delete``)."""
        if self.ref is None:
            raise OutputError(
                "new versions are made in the catalog: serve DATASET[@VERSION] for this, or "
                "write an archive without them"
            )
        wanted = self._check_ids(ids)
        if len(set(wanted)) >= len(set(all_ids)):
            raise OutputError("the selection is every input; a version cannot be empty")
        made = self._catalog_needed().delete_inputs(self.ref, wanted)
        ids_file = self._ids_file(made.version.id, wanted)
        command = f"{self._prog()} inputs delete {_q(self.ref)} --ids-from {_q(ids_file)}"
        return self._derived("inputs-delete", made, command)

    def version_only(self, ids: Sequence[str], *, all_ids: Sequence[str]) -> ActionResult:
        """A new catalog version with only the selected inputs: the others deleted
        (``inputs delete`` with the ids not selected)."""
        if self.ref is None:
            raise OutputError(
                "new versions are made in the catalog: serve DATASET[@VERSION] for this, or "
                "write an archive of them"
            )
        wanted = set(self._check_ids(ids))
        others = list(dict.fromkeys(i for i in all_ids if i not in wanted))
        if not others:
            raise OutputError("the selection is every input: the version would not change")
        made = self._catalog_needed().delete_inputs(self.ref, others)
        ids_file = self._ids_file(made.version.id, others)
        command = f"{self._prog()} inputs delete {_q(self.ref)} --ids-from {_q(ids_file)}"
        return self._derived("keep-only", made, command)

    def merge_into(
        self, ids: Sequence[str], *, into: str, on_conflict: str = "error"
    ) -> ActionResult:
        """A new version of dataset ``into`` with the selected inputs merged in
        (``datasets merge --ids-from``)."""
        if on_conflict not in _CONFLICTS:
            raise OutputError(f"on_conflict must be one of {', '.join(_CONFLICTS)}")
        wanted = self._check_ids(ids)
        source: str | Path = self.ref if self.ref is not None else self.source
        made = self._catalog_needed().datasets.merge(
            source, into=into, ids=wanted, on_conflict=on_conflict
        )
        ids_file = self._ids_file(made.version.id, wanted)
        command = (
            f"{self._prog()} datasets merge {_q(self.shown_source)} --into {_q(into)} "
            f"--ids-from {_q(ids_file)} --on-conflict {on_conflict}"
        )
        return self._derived("merge", made, command)
