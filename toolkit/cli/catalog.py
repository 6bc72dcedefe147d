"""``clarifai-archive datasets ...`` and ``versions ...``: the local catalog."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from ..catalog import PATCH_ACTIONS, DatasetInfo, VersionInfo
from ..convert import FORMATS
from ..merge import CONFLICT_POLICIES
from ._common import (
    ARCHIVE,
    check_writes,
    echo_json,
    echo_jsonl,
    get_context,
    open_catalog,
    report_option,
    resolve_archive,
    write_report,
)
from ._writing import allow_empty_option
from .convert import (
    allow_missing_option,
    bad_numbers_option,
    check_media_usage,
    force_folder_option,
    media_option,
    pat_file_option,
)
from .info import echo_metrics

__all__ = ["confirm_irreversible", "datasets", "read_ids", "versions"]

F = TypeVar("F", bound=Callable[..., Any])

_PAGE = click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page, from 1."
)


def _per_page(what: str) -> Callable[[F], F]:
    return click.option(
        "--per-page",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help=f"{what} a page.",
    )


def _json_option(help_text: str = "Print JSON.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def confirm_irreversible(what: str, *, yes: bool) -> None:
    """Ask before deleting ``what``; refuse with an ``Error:`` when there is no terminal to ask.

    ``--yes`` skips the question.
    """
    if yes:
        return
    if not _stdin_is_terminal():
        raise click.ClickException(
            f"not deleting {what}: deleting is irreversible and there is no terminal to "
            "confirm on; pass --yes to delete without asking"
        )
    click.confirm(f"Delete {what}? This is irreversible.", abort=True, err=True)


def read_ids(values: Iterable[str], ids_from: IO[str] | None) -> list[str]:
    """Ids from ``--id`` options and an ``--ids-from`` file (one a line; blank lines and
    lines starting with ``#`` skipped), in order, without repeats."""
    from ..subset import read_ids_file

    ids = [v for v in values if v]
    if ids_from is not None:
        ids.extend(read_ids_file(ids_from))
    return list(dict.fromkeys(ids))


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _note(text: str) -> None:
    if not get_context().quiet:
        click.echo(text, err=True)


def _table(headers: list[str], rows: list[list[str]], *, right: set[int] | None = None) -> None:
    right = right or set()
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))


def _version_line(version: VersionInfo) -> str:
    return (
        f"{version.ref}: {version.inputs_count} inputs in {version.entries_count} batch "
        f"entries ({_human_size(version.size)})"
    )


def _echo_version_table(found: list[VersionInfo]) -> None:
    if not found:
        return
    rows = [
        [
            v.id,
            v.name,
            str(v.inputs_count),
            _human_size(v.size),
            v.created_at[:19].replace("T", " "),
            v.parent or "",
            "MISSING" if v.missing else "ok",
        ]
        for v in found
    ]
    _table(["id", "name", "inputs", "size", "created (UTC)", "parent", "file"], rows, right={2, 3})


def _echo_dataset(info: DatasetInfo) -> None:
    click.echo(f"dataset:        {info.id}")
    click.echo(f"description:    {info.description}")
    if info.notes:
        lines = info.notes.splitlines() or [""]
        click.echo(f"notes:          {lines[0]}")
        for extra in lines[1:]:
            click.echo(f"                {extra}")
    click.echo(f"metadata:       {json.dumps(info.metadata, ensure_ascii=False)}")
    if info.image:
        cover = info.image.get("url") or info.image.get("file", "")
        click.echo(f"cover image:    {cover}")
    if info.default_filter_id:
        click.echo(f"default filter: {info.default_filter_id}")
    click.echo(f"created:        {info.created_at}")
    click.echo(f"modified:       {info.modified_at}")
    latest = (
        f" (latest {info.latest_version}, {info.inputs_count} inputs)"
        if info.latest_version
        else ""
    )
    click.echo(f"versions:       {info.versions_count}{latest}")
    for path in info.missing_files:
        click.echo(f"missing file:   {path}")


# -- datasets -----------------------------------------------------------------------------


@click.group()
def datasets() -> None:
    """Add, list, show, patch, merge, export and delete datasets in the local catalog."""


@datasets.command("add")
@click.argument("archive", type=ARCHIVE)
@click.option("--dataset", "dataset_id", required=True, metavar="ID", help="Dataset id.")
@click.option(
    "--version",
    "version_id",
    metavar="VID",
    help="Version id (default: from the archive's file name, made unique).",
)
@click.option("--name", default="", help="Version name.")
@click.option("--description", default="", help="Version description.")
@_json_option("Print the new version as JSON.")
def add_command(
    archive: str,
    dataset_id: str,
    version_id: str | None,
    name: str,
    description: str,
    as_json: bool,
) -> None:
    """Import ARCHIVE as a new version of a dataset (made when it does not exist yet).

    The archive is read once (metrics and an index of its input ids) and copied into
    the catalog home; the original is left where it is.

    \b
    Example:
        clarifai-archive datasets add clarifai-data-protobuf.zip --dataset birds
        clarifai-archive datasets add export-may.zip --dataset birds --version may
    """
    from ..archive import ArchiveReader

    obj = get_context()
    path = resolve_archive(archive)
    catalog = open_catalog()
    with ArchiveReader(path, limits=obj.limits) as reader:
        entries = len(reader.entries)
    hidden = obj.quiet or not sys.stderr.isatty()
    with click.progressbar(
        length=entries, label="Importing", file=sys.stderr, hidden=hidden
    ) as bar:
        version = catalog.datasets.add(
            path,
            dataset=dataset_id,
            version=version_id,
            name=name,
            description=description,
            progress=bar.update,
        )
    if as_json:
        echo_json(version.to_dict())
        return
    click.echo(f"Added {_version_line(version)}.")


@datasets.command("list")
@_PAGE
@_per_page("Datasets")
@_json_option("JSON Lines, one dataset a line.")
def list_datasets_command(page: int, per_page: int, as_json: bool) -> None:
    """List the datasets of the catalog, by id, a page at a time.

    \b
    Example:
        clarifai-archive datasets list
        clarifai-archive --home ./catalog datasets list --json
    """
    found = open_catalog().datasets.list(page=page, per_page=per_page)
    if as_json:
        for info in found:
            echo_jsonl(info.to_dict())
        return
    if not found:
        if page == 1:
            _note("The catalog has no datasets; add one with 'clarifai-archive datasets add'.")
        return
    rows = [
        [
            d.id,
            str(d.versions_count),
            d.latest_version or "",
            str(d.inputs_count),
            f"{len(d.missing_files)} missing" if d.missing_files else "ok",
            d.description,
        ]
        for d in found
    ]
    _table(["id", "versions", "latest", "inputs", "files", "description"], rows, right={1, 3})


@datasets.command("get")
@click.argument("dataset_id", metavar="ID")
@_json_option("Print the dataset and its versions as JSON.")
def get_dataset_command(dataset_id: str, as_json: bool) -> None:
    """Show a dataset: its description, notes, metadata, cover image and versions.

    Archive files moved or deleted by hand are shown as missing.

    \b
    Example:
        clarifai-archive datasets get birds
        clarifai-archive datasets get birds --json
    """
    catalog = open_catalog()
    info = catalog.datasets.get(dataset_id)
    found = catalog.versions.list(dataset_id, per_page=max(info.versions_count, 1))
    if as_json:
        out = info.to_dict()
        out["versions"] = [v.to_dict(metrics=False) for v in found]
        echo_json(out)
        return
    _echo_dataset(info)
    if found:
        click.echo()
        _echo_version_table(found)


@datasets.command("patch")
@click.argument("dataset_id", metavar="ID")
@click.option(
    "--action",
    type=click.Choice(PATCH_ACTIONS),
    default="merge",
    show_default=True,
    help="merge: replace scalars, merge objects, append to lists; overwrite: replace each "
    "given field; remove: remove the cover image.",
)
@click.option("--description", help="Dataset description.")
@click.option("--notes", help="Dataset notes (free text).")
@click.option("--metadata", "metadata_text", metavar="JSON", help="Metadata, a JSON object.")
@click.option(
    "--cover-image",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Cover image file (copied into the catalog home).",
)
@click.option("--cover-image-url", metavar="URL", help="Cover image URL (http or https).")
@click.option(
    "--default-filter-id",
    metavar="ID",
    help="A saved filter ('clarifai-archive filters add') that 'datasets export' and 'inputs "
    "list DATASET' apply; '' for none.",
)
@_json_option("Print the patched dataset as JSON.")
def patch_command(
    dataset_id: str,
    action: str,
    description: str | None,
    notes: str | None,
    metadata_text: str | None,
    cover_image: Path | None,
    cover_image_url: str | None,
    default_filter_id: str | None,
    as_json: bool,
) -> None:
    """Patch a dataset's fields with Clarifai's patch actions.

    merge replaces the given scalar fields, merges --metadata into the old metadata key
    by key (lists are appended to; list items that share an "id" are merged); overwrite
    replaces each given field as a whole; remove removes the cover image.

    \b
    Example:
        clarifai-archive datasets patch birds --description "Birds" --notes "May export"
        clarifai-archive datasets patch birds --action overwrite --metadata '{"source": "May"}'
        clarifai-archive datasets patch birds --cover-image cover.png
        clarifai-archive datasets patch birds --default-filter-id boxes
        clarifai-archive datasets patch birds --action remove
    """
    metadata: dict[str, Any] | None = None
    if metadata_text is not None:
        try:
            metadata = json.loads(metadata_text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON ({exc})", param_hint="--metadata") from None
        if not isinstance(metadata, dict):
            raise click.BadParameter("must be a JSON object {...}", param_hint="--metadata")
    if cover_image is not None and cover_image_url is not None:
        raise click.UsageError("give --cover-image or --cover-image-url, not both")
    fields = [description, notes, metadata, cover_image, cover_image_url, default_filter_id]
    given = [f for f in fields if f is not None]
    if action == "remove" and given:
        raise click.UsageError("--action remove removes the cover image and takes no field options")
    if action != "remove" and not given:
        raise click.UsageError(
            "nothing to patch: give --description, --notes, --metadata, --cover-image, "
            "--cover-image-url or --default-filter-id"
        )
    try:
        info = open_catalog().datasets.patch(
            dataset_id,
            action=action,  # type: ignore[arg-type]
            description=description,
            notes=notes,
            metadata=metadata,
            cover_image=cover_image,
            cover_image_url=cover_image_url,
            default_filter_id=default_filter_id,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        echo_json(info.to_dict())
        return
    _echo_dataset(info)


@datasets.command("delete")
@click.argument("dataset_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask; delete at once.")
@_json_option("Print the deleted dataset as JSON.")
def delete_dataset_command(dataset_id: str, yes: bool, as_json: bool) -> None:
    """Delete a dataset with all its versions and their archive files (irreversible).

    Asks first; --yes skips the question. Without a terminal to ask on, --yes is needed.

    \b
    Example:
        clarifai-archive datasets delete birds
        clarifai-archive datasets delete birds --yes
    """
    catalog = open_catalog()
    info = catalog.datasets.get(dataset_id)
    confirm_irreversible(
        f"dataset {info.id!r} with its {info.versions_count} version(s) and their archive files",
        yes=yes,
    )
    deleted = catalog.datasets.delete(dataset_id)
    if as_json:
        echo_json(deleted.to_dict())
        return
    click.echo(f"Deleted dataset {deleted.id} ({deleted.versions_count} version(s)).")


def _echo_derived(made: Any, as_json: bool, what: str) -> None:
    version = made.version
    parent = made.parent
    if as_json:
        out = {"version": version.to_dict(), "parent": None if parent is None else parent.ref}
        if made.missing_ids:
            out["missing_ids"] = list(made.missing_ids)
        report = made.report
        if report is not None and hasattr(report, "to_dict"):
            out["report"] = report.to_dict()
        echo_json(out)
        return
    if parent is None:
        click.echo(
            f"Created dataset {version.dataset_id} with version {version.ref} ({what}): "
            f"{version.inputs_count} inputs."
        )
        return
    click.echo(
        f"Created version {version.ref} ({what}): {version.inputs_count} inputs, "
        f"from {parent.ref} ({parent.inputs_count} inputs)."
    )


@datasets.command("merge")
@click.argument("source", type=ARCHIVE)
@click.option(
    "--into", "into", required=True, metavar="DATASET[@VERSION]", help="The dataset merged into."
)
@click.option(
    "--on-conflict",
    type=click.Choice(CONFLICT_POLICIES),
    default="error",
    show_default=True,
    help="An input id in both with different content: error (change nothing), skip (keep "
    "the dataset's), overwrite (take SOURCE's), rename (keep both, SOURCE's as ID~2).",
)
@click.option(
    "--merge-annotations",
    is_flag=True,
    help="Inputs with the same id and media get the union of their labels and regions.",
)
@click.option(
    "--ids-from",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Only these input ids of SOURCE (one a line; '-' for stdin).",
)
@click.option("--version", "version_id", metavar="VID", help="Id of the new version.")
@click.option("--description", default="", help="Description of the new version.")
@click.option(
    "--create",
    is_flag=True,
    help="Make the dataset --into, with SOURCE's inputs, if it does not exist.",
)
@_json_option("Print the new version as JSON.")
def merge_command(
    source: str,
    into: str,
    on_conflict: str,
    merge_annotations: bool,
    ids_from: IO[str] | None,
    version_id: str | None,
    description: str,
    create: bool,
    as_json: bool,
) -> None:
    """Merge SOURCE (a dataset, DATASET@VERSION or an archive) into a dataset as a new version.

    The new version holds the inputs of the dataset's latest version (or of the
    version given with --into DATASET@VERSION) and those of SOURCE; the new version's
    id is printed. The old version and SOURCE are left as they were. With --create, a
    dataset --into that does not exist is made, SOURCE's inputs its first version.

    \b
    Example:
        clarifai-archive datasets merge birds-extra --into birds
        clarifai-archive datasets merge extra.zip --into birds --on-conflict skip
        clarifai-archive datasets merge extra.zip --into new-birds --create
    """
    path = resolve_archive(source)
    is_file = Path(source).exists()
    ids = read_ids([], ids_from) if ids_from is not None else None
    if ids is not None and not ids:
        raise click.BadParameter("holds no input ids", param_hint="--ids-from")
    made = open_catalog().datasets.merge(
        path if is_file else source,
        into=into,
        on_conflict=on_conflict,
        merge_annotations=merge_annotations,
        ids=ids,
        version=version_id,
        description=description,
        create=create,
    )
    report = made.report
    dropped = len(report.skipped) + len(report.overwritten) + len(report.identical)
    if dropped or report.renamed:
        _note(
            f"{len(report.identical)} identical, {len(report.skipped)} skipped, "
            f"{len(report.overwritten)} overwritten, {len(report.renamed)} renamed."
        )
    _echo_derived(made, as_json, f"merged {made.version.source}")


@datasets.command("export")
@click.argument("ref", metavar="ID[@VID]")
@click.option(
    "--to",
    "to",
    type=click.Choice(list(FORMATS)),
    required=True,
    help="Output format (those of 'clarifai-archive convert').",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Output zip, .jsonl file or folder (coco, yolo, voc).",
)
@media_option
@pat_file_option
@allow_missing_option
@allow_empty_option
@bad_numbers_option
@force_folder_option
@click.option(
    "--no-default-filter",
    is_flag=True,
    help="Export every input, not only those the dataset's default filter keeps.",
)
@report_option("Also write the conversion report as JSON to this file ('-' for stdout).")
@_json_option("Print the conversion report as JSON.")
def export_command(
    ref: str,
    to: str,
    output: Path,
    media: str,
    pat_file: Path | None,
    allow_missing: bool,
    allow_empty: bool,
    bad_numbers: str,
    force: bool,
    no_default_filter: bool,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Export a dataset version (the latest by default) in another format.

    The formats are those of 'clarifai-archive convert' (which also takes DATASET[@VERSION]
    and offers every option); a protobuf version exported as protobuf is copied as is.
    When the dataset has a default filter, only the inputs it keeps are exported (a note
    says so), unless --no-default-filter.

    \b
    Example:
        clarifai-archive datasets export birds --to coco -o birds-coco --media embedded
        clarifai-archive datasets export birds@v1 --to protobuf -o birds-v1.zip
        clarifai-archive datasets export birds --to jsonl -o birds.jsonl
    """
    check_media_usage(to, media, pat_file)
    from ..convert import ConvertOptions

    pat = None
    if media == "download":
        from ..media import read_pat

        pat = read_pat(pat_file)
    options = ConvertOptions(
        media=media,  # type: ignore[arg-type]
        pat=pat,
        allow_missing=allow_missing and media != "none",
        allow_empty=allow_empty,
        force=force,
        bad_numbers=bad_numbers,  # type: ignore[arg-type]
    )
    catalog = open_catalog()
    version = catalog.version(ref)
    check_writes(
        {"-o": output, "--report": report_path},
        [version.archive],
        force=force,
        existing_ok={"-o"} if FORMATS[to].output_kind == "folder" else (),
    )
    found = None if no_default_filter else catalog.default_filter(version.ref)
    if found is not None:
        _note(
            f"Note: applying the default filter {found.id!r} of {version.dataset_id} "
            "(--no-default-filter exports every input)"
        )
    hidden = get_context().quiet or not sys.stderr.isatty()
    with click.progressbar(
        length=max(version.entries_count, 1), label="Exporting", file=sys.stderr, hidden=hidden
    ) as bar:
        report = catalog.datasets.export(
            version.ref,
            output,
            to=to,
            options=options,
            default_filter=not no_default_filter,
            progress=bar.update,
        )
    from .convert import warn_unknown_fields

    warn_unknown_fields(report)
    write_report(report_path, {"version": version.ref, "report": report.to_dict()})
    if as_json:
        echo_json({"version": version.ref, "report": report.to_dict()})
        return
    click.echo(
        f"Exported {version.ref} ({report.inputs} inputs) to {output} as {to}: "
        + (
            f"{report.images} images, {report.annotations} annotations, "
            f"{report.categories} categories."
            if to in ("coco", "yolo", "voc")
            else f"{report.written} inputs written."
        )
    )
    if report.media is not None and report.media.failed:
        _note(f"Warning: media of {len(report.media.failed)} input(s) failed.")


# -- versions -----------------------------------------------------------------------------


_VERSION_REF = click.argument("ref", metavar="DATASET@VERSION")
_OLD_VERSION_ID = click.argument("old_version_id", required=False, metavar="[VID]")


def _version_of(ref: str, old_version_id: str | None, *, latest_ok: bool) -> tuple[str, str]:
    """The dataset and version named by ``DATASET@VERSION`` (or the older ``ID VID``);
    with ``latest_ok``, a bare ``DATASET`` means its latest version."""
    from ..catalog import parse_ref
    from ..errors import CatalogError

    if old_version_id is not None:
        if "@" in ref:
            raise click.UsageError(
                f"give {ref} or {ref.partition('@')[0]} {old_version_id}, not both"
            )
        return ref, old_version_id
    try:
        parsed = parse_ref(ref)
    except CatalogError as exc:
        raise click.BadParameter(str(exc), param_hint="DATASET@VERSION") from None
    if parsed.version is not None:
        return parsed.dataset, parsed.version
    if not latest_ok:
        raise click.UsageError(
            f"name the version: {ref}@VERSION (see 'clarifai-archive versions list {ref}')"
        )
    return parsed.dataset, open_catalog().version(parsed).id


@click.group()
def versions() -> None:
    """List, show, rename, refresh and delete the versions of a dataset."""


@versions.command("list")
@click.argument("dataset_id", metavar="ID")
@_PAGE
@_per_page("Versions")
@_json_option("JSON Lines, one version a line (without metrics).")
def list_versions_command(dataset_id: str, page: int, per_page: int, as_json: bool) -> None:
    """List the versions of a dataset, newest first; missing archive files are marked.

    \b
    Example:
        clarifai-archive versions list birds
        clarifai-archive versions list birds --json
    """
    found = open_catalog().versions.list(dataset_id, page=page, per_page=per_page)
    if as_json:
        for version in found:
            echo_jsonl(version.to_dict(metrics=False))
        return
    _echo_version_table(found)


@versions.command("get")
@_VERSION_REF
@_OLD_VERSION_ID
@_json_option("Print the version with its metrics as JSON.")
def get_version_command(ref: str, old_version_id: str | None, as_json: bool) -> None:
    """Show a version and its metrics (as 'clarifai-archive info' shows an archive).

    DATASET alone is its latest version; the older form ID VID still works.

    \b
    Example:
        clarifai-archive versions get birds@v1
        clarifai-archive versions get birds@v1 --json
    """
    dataset_id, version_id = _version_of(ref, old_version_id, latest_ok=True)
    version = open_catalog().versions.get(dataset_id, version_id)
    if as_json:
        echo_json(version.to_dict())
        return
    click.echo(f"version:    {version.ref}")
    if version.name:
        click.echo(f"name:       {version.name}")
    if version.description:
        click.echo(f"description: {version.description}")
    click.echo(f"created:    {version.created_at}")
    if version.parent:
        click.echo(f"made from:  {version.dataset_id}@{version.parent} ({version.origin})")
    state = "MISSING (moved or deleted by hand)" if version.missing else ""
    click.echo(f"archive:    {version.archive} ({_human_size(version.size)}) {state}".rstrip())
    echo_metrics(version.metrics)


@versions.command("patch")
@_VERSION_REF
@_OLD_VERSION_ID
@click.option("--name", help="New name.")
@click.option("--description", help="New description.")
@_json_option("Print the patched version as JSON.")
def patch_version_command(
    ref: str, old_version_id: str | None, name: str | None, description: str | None, as_json: bool
) -> None:
    """Rename a version or change its description (its id and inputs never change).

    The older form ID VID still works.

    \b
    Example:
        clarifai-archive versions patch birds@v1 --name "first export"
    """
    dataset_id, version_id = _version_of(ref, old_version_id, latest_ok=False)
    if name is None and description is None:
        raise click.UsageError("nothing to patch: give --name or --description")
    version = open_catalog().versions.patch(
        dataset_id, version_id, name=name, description=description
    )
    if as_json:
        echo_json(version.to_dict(metrics=False))
        return
    click.echo(
        f"Patched {version.ref}: name {version.name!r}, description {version.description!r}."
    )


@versions.command("delete")
@_VERSION_REF
@_OLD_VERSION_ID
@click.option("--yes", "-y", is_flag=True, help="Do not ask; delete at once.")
@_json_option("Print the deleted version as JSON.")
def delete_version_command(ref: str, old_version_id: str | None, yes: bool, as_json: bool) -> None:
    """Delete one version and its archive file (irreversible).

    The version is named in full (DATASET@VERSION, or the older ID VID).

    Asks first; --yes skips the question. Without a terminal to ask on, --yes is needed.

    \b
    Example:
        clarifai-archive versions delete birds@v1 --yes
    """
    dataset_id, version_id = _version_of(ref, old_version_id, latest_ok=False)
    catalog = open_catalog()
    version = catalog.versions.get(dataset_id, version_id)
    confirm_irreversible(f"version {version.ref} and its archive file", yes=yes)
    deleted = catalog.versions.delete(dataset_id, version_id)
    if as_json:
        echo_json(deleted.to_dict(metrics=False))
        return
    click.echo(f"Deleted version {deleted.ref}.")


@versions.command("refresh")
@_VERSION_REF
@_OLD_VERSION_ID
@_json_option("Print the refreshed version as JSON.")
def refresh_command(ref: str, old_version_id: str | None, as_json: bool) -> None:
    """Recompute a version's metrics and input id index from its archive.

    DATASET alone is its latest version; the older form ID VID still works.

    \b
    Example:
        clarifai-archive versions refresh birds@v1
    """
    dataset_id, version_id = _version_of(ref, old_version_id, latest_ok=True)
    catalog = open_catalog()
    before = catalog.versions.get(dataset_id, version_id)
    hidden = get_context().quiet or not sys.stderr.isatty()
    with click.progressbar(
        length=max(before.entries_count, 1), label="Reading", file=sys.stderr, hidden=hidden
    ) as bar:
        version = catalog.versions.refresh(dataset_id, version_id, progress=bar.update)
    if version.sha256 != before.sha256:
        _note(f"Note: the archive of {version.ref} changed since it was imported.")
    if as_json:
        echo_json(version.to_dict())
        return
    click.echo(f"Refreshed {_version_line(version)}.")
