"""Dataset operations: ``catalog.datasets`` (list, get, add, patch, merge, export, delete).

They run their queries through the catalog's :class:`~toolkit.catalog.store.Store`
and make new versions with :func:`~toolkit.catalog.versions.register_version`.

Example::

    v = catalog.datasets.add("clarifai-data-protobuf.zip", dataset="birds")
    catalog.datasets.patch("birds", action="merge", notes="From the May export.")
    catalog.datasets.export("birds", "birds-coco", to="coco")
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..archive import ArchiveReader
from ..errors import (
    ArchiveError,
    CatalogError,
    EmptyResultError,
    InputNotFoundError,
    LimitError,
    MediaError,
    OutputError,
    param,
)
from ..limits import Limits
from ..safety import open_image
from ._files import Workspace
from ._scan import file_sha256, scan
from .filters import check_filter_exists
from .models import DatasetInfo, DerivedVersion, VersionInfo
from .patch import PATCH_ACTIONS, PatchAction, apply_patch
from .refs import CatalogRef, parse_ref, unique_id, validate_id, version_id_from_file_name
from .versions import (
    check_page,
    check_version_free,
    register_derived,
    register_version,
    require_file,
    shown_ids,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..convert import ConvertOptions, ConvertReport, ConvertSettings
    from .catalog import Catalog

__all__ = ["Datasets", "check_cover_url"]


class Datasets:
    """``catalog.datasets``: list, get, add, patch, merge, export and delete datasets."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._store = catalog.store

    def list(self, *, page: int = 1, per_page: int = 100) -> list[DatasetInfo]:
        """One page of datasets (1-based), ordered by id.

        Example::

            for dataset in catalog.datasets.list(per_page=20):
                print(dataset.id, dataset.versions_count)
        """
        check_page(page, per_page)
        with self._store.reading() as session:
            return session.datasets(limit=per_page, offset=(page - 1) * per_page)

    def get(self, dataset_id: str) -> DatasetInfo:
        """One dataset; :class:`NotInCatalogError` when there is none.

        Example::

            info = catalog.datasets.get("birds")
            print(info.latest_version, info.missing_files)
        """
        with self._store.reading() as session:
            return session.dataset(dataset_id)

    def add(
        self,
        archive: str | os.PathLike[str],
        *,
        dataset: str,
        version: str | None = None,
        name: str = "",
        description: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> VersionInfo:
        """Import an archive as a new version of ``dataset`` (made when it does not exist).

        The archive is read once, computing its metrics and input id index while a copy
        is made into the home; then everything is registered in one transaction. The
        version id is ``version`` or, by default, the archive's file name made safe and
        unique in the dataset (``clarifai-data-protobuf``, then ``clarifai-data-protobuf-2``).
        ``progress`` is called with 1 after each batch entry read.

        Example::

            v = catalog.datasets.add("clarifai-data-protobuf.zip", dataset="birds")
            print(v.id, v.inputs_count)
        """
        cat = self._catalog
        validate_id(dataset, what="dataset id")
        if version is not None:
            validate_id(version, what="version id")
        source = Path(archive)
        if not source.is_file():
            raise ArchiveError(
                f"{source}: no such file" if not source.exists() else f"{source}: not a file"
            )
        check_version_free(self._store, dataset, version)
        base_id = version_id_from_file_name(source.name)
        with Workspace(self._store.ensure_home()) as ws:
            part = ws.path / "archive.zip"
            scanned = scan(source, limits=cat.limits, copy_to=part, progress=progress)
            with self._store.writing() as txn:
                return register_version(
                    txn,
                    dataset_id=dataset,
                    version_id=version,
                    default_id=lambda taken: unique_id(base_id, taken),
                    part=part,
                    scanned=scanned,
                    name=name,
                    description=description,
                    parent=None,
                    origin="add",
                    source=str(source.resolve()),
                    create_dataset=True,
                )

    def patch(
        self,
        dataset_id: str,
        *,
        action: PatchAction = "merge",
        description: str | None = None,
        notes: str | None = None,
        metadata: dict[str, Any] | None = None,
        cover_image: str | os.PathLike[str] | None = None,
        cover_image_url: str | None = None,
        default_filter_id: str | None = None,
    ) -> DatasetInfo:
        """Patch a dataset with Clarifai's semantics (see :mod:`toolkit.catalog.patch`).

        ``merge`` replaces the given scalars, merges ``metadata`` key by key (lists are
        appended to, list items sharing an ``id`` are merged); ``overwrite`` replaces each
        given field as a whole; ``remove`` removes the cover image and takes no field.
        A cover image is a file (copied into the home) or a URL, never both.

        Example::

            catalog.datasets.patch("birds", action="merge", notes="Checked by hand.")
            catalog.datasets.patch("birds", action="overwrite", metadata={"source": "May"})
            catalog.datasets.patch("birds", action="remove")     # drop the cover image
        """
        cat = self._catalog
        if action not in PATCH_ACTIONS:
            raise ValueError(f"unknown patch action {action!r}; use merge, overwrite or remove")
        if cover_image is not None and cover_image_url is not None:
            raise ValueError("give a cover image file or a cover image URL, not both")
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if notes is not None:
            changes["notes"] = notes
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise ValueError("metadata must be a JSON object")
            _check_depth(metadata, cat.limits.max_metadata_depth)
            changes["metadata"] = metadata
        if default_filter_id is not None:
            changes["default_filter_id"] = default_filter_id
        if cover_image_url is not None:
            if not cover_image_url:
                raise ValueError("the cover image URL is empty; use the remove action instead")
            changes["image"] = {"url": check_cover_url(cover_image_url)}
        if action == "remove":
            if changes or cover_image is not None:
                raise ValueError(
                    "the remove action only removes the cover image; give no other field"
                )
        elif not changes and cover_image is None:
            raise ValueError("nothing to patch: give at least one field")
        with contextlib.ExitStack() as stack:
            cover_part: Path | None = None
            cover_name = ""
            if cover_image is not None:
                ws = stack.enter_context(Workspace(self._store.ensure_home()))
                cover_part, cover_name = _prepare_cover(Path(cover_image), ws.path, cat.limits)
                changes["image"] = {"file": cover_name}
            with self._store.writing() as txn:
                row = txn.dataset_row(dataset_id)
                current = {
                    "description": row.description,
                    "notes": row.notes,
                    "metadata": row.metadata,
                    "image": row.image,
                    "default_filter_id": row.default_filter_id,
                }
                patched = apply_patch(current, changes, action=action)
                if default_filter_id:
                    check_filter_exists(txn, default_filter_id)
                if not isinstance(patched["metadata"], dict):
                    raise ValueError("metadata must be a JSON object")
                if cover_part is not None:
                    dest = cat.home / cover_name
                    if dest.is_file():
                        cover_part.unlink()
                    else:
                        txn.move(cover_part, dest)
                old_file = (row.image or {}).get("file")
                new_file = (patched["image"] or {}).get("file")
                txn.update_dataset(
                    row.pk,
                    description=patched["description"],
                    notes=patched["notes"],
                    metadata=patched["metadata"],
                    image=patched["image"],
                    default_filter_id=patched["default_filter_id"],
                )
                if old_file and old_file != new_file and not txn.cover_used(old_file):
                    txn.delete_after_commit([cat.home / old_file])
        return self.get(dataset_id)

    def delete(self, dataset_id: str) -> DatasetInfo:
        """Delete a dataset, all its versions and their archive files. Irreversible.

        Returns the dataset as it was.

        Example::

            catalog.datasets.delete("birds")
        """
        cat = self._catalog
        info = self.get(dataset_id)
        with self._store.writing() as txn:
            row = txn.dataset_row(dataset_id)
            files = txn.delete_dataset(row.pk)
            txn.delete_after_commit(cat.home / f for f in files)
            cover = (row.image or {}).get("file")
            if cover and not txn.cover_used(cover):
                txn.delete_after_commit([cat.home / cover])
        for folder in {(cat.home / f).parent for f in files}:
            with contextlib.suppress(OSError):
                folder.rmdir()
        return info

    def merge(
        self,
        source: str | os.PathLike[str],
        *,
        into: str,
        on_conflict: str = "error",
        merge_annotations: bool = False,
        ids: Iterable[str] | None = None,
        version: str | None = None,
        description: str = "",
        create: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> DerivedVersion:
        """Merge ``source`` (a reference or an archive file) into ``into``'s latest version
        (or the version ``into`` names, ``DATASET@VERSION``).

        With ``create``, a dataset ``into`` that does not exist is made, with ``source``'s
        inputs as its first version (``parent`` is then None and ``report`` the merge of
        the source alone).

        The result is a new version of ``into`` (id ``version``, or derived from the
        parent's: ``v1`` gives ``v1-merge1``); the parent version and the source stay as
        they were. ``ids`` keeps only those inputs of the source. ``on_conflict``
        (``error``, ``skip``, ``overwrite``, ``rename``), ``merge_annotations`` and
        ``progress`` (inputs done) are those of :func:`toolkit.merge.merge_archives`; the
        parent's inputs come first.

        Example::

            made = catalog.datasets.merge("birds-extra", into="birds", on_conflict="skip")
            print(made.version.ref)
        """
        from ..merge import merge_archives

        cat = self._catalog
        dest = parse_ref(into)
        if version is not None:
            validate_id(version, what="version id")
        if create and not self._exists(dest.dataset):
            if dest.version is not None:
                hint = param("into", dest.dataset)
                raise CatalogError(
                    f"{into}: dataset {dest.dataset!r} does not exist, so it has no version "
                    f"{dest.version!r}; give {hint} to create it",
                    params=[hint],
                )
            return self._create_from(
                source,
                dest.dataset,
                ids=ids,
                version=version,
                description=description,
                progress=progress,
            )
        parent = cat.version(dest)
        parent_path = require_file(parent)
        source_path, source_name = _source_path(cat, source)
        check_version_free(self._store, dest.dataset, version)
        with Workspace(self._store.ensure_home()) as ws:
            part = ws.path / "version.zip"
            if ids is not None:
                source_path = _keep_only(source_path, ids, ws.path / "source.zip", cat.limits)
            report = merge_archives(
                [parent_path, source_path],
                part,
                on_conflict=on_conflict,  # type: ignore[arg-type]
                merge_annotations=merge_annotations,
                limits=cat.limits,
                progress=progress,
            )
            made = register_derived(
                self._store,
                cat.limits,
                parent,
                part,
                version=version,
                description=description,
                tag="merge",
                origin="merge",
                source=source_name,
            )
        # the report names the files as the user knows them, not the scratch copies
        counts = [s.inputs for s in report.sources]
        report = dataclasses.replace(
            report,
            output=str(made.archive),
            sources=(
                type(report.sources[0])(parent.ref, counts[0]),
                type(report.sources[1])(source_name, counts[1]),
            ),
        )
        return DerivedVersion(version=made, parent=parent, report=report)

    def _exists(self, dataset_id: str) -> bool:
        with self._store.reading() as session:
            return session.dataset_exists(dataset_id)

    def _create_from(
        self,
        source: str | os.PathLike[str],
        dataset_id: str,
        *,
        ids: Iterable[str] | None,
        version: str | None,
        description: str,
        progress: Callable[[int], None] | None,
    ) -> DerivedVersion:
        """``merge(create=True)`` into a dataset that does not exist: add the source."""
        from ..merge import merge_archives

        cat = self._catalog
        validate_id(dataset_id, what="dataset id")
        source_path, source_name = _source_path(cat, source)
        with Workspace(self._store.ensure_home()) as ws:
            if ids is not None:
                source_path = _keep_only(source_path, ids, ws.path / "source.zip", cat.limits)
            # The same rewrite as a merge (one source): the version holds what a merge
            # into an existing dataset would have added, with the same report.
            part = ws.path / "merged.zip"
            report = merge_archives([source_path], part, limits=cat.limits, progress=progress)
            made = self.add(
                part,
                dataset=dataset_id,
                version=version or version_id_from_file_name(Path(source_name).name),
                description=description,
            )
        with self._store.writing() as txn:  # the version comes from the source, not the copy
            txn.set_version_source(made.pk, origin="merge", source=source_name)
        made = cat.versions.get(dataset_id, made.id)
        report = dataclasses.replace(
            report,
            output=str(made.archive),
            sources=(type(report.sources[0])(source_name, report.sources[0].inputs),),
        )
        return DerivedVersion(version=made, parent=None, report=report)

    def export(
        self,
        ref: str | CatalogRef,
        output: str | os.PathLike[str],
        *,
        to: str,
        options: ConvertOptions | None = None,
        default_filter: bool = True,
        progress: Callable[[int], None] | None = None,
        **settings: Unpack[ConvertSettings],
    ) -> ConvertReport:
        """Write a version (the latest by default) in one of the formats of
        :func:`toolkit.convert.convert_archives` (``json``, ``jsonl``, ``coco``, ``yolo``,
        ``voc``, ``parquet``, ``protobuf``, ``sdk``) with ``options``
        (:class:`~toolkit.convert.ConvertOptions`: ``media``, ``pat``, ``allow_missing``,
        ``force``, ``allow_empty`` ...; its fields may also be given as keyword arguments,
        the form before ``options``). The catalog's limits apply.

        A protobuf version exported ``to="protobuf"`` is copied byte for byte. When the
        dataset has a default filter (``datasets.patch(..., default_filter_id=...)``) only
        the inputs it keeps are exported, unless ``default_filter=False``. An export that
        would hold no inputs is an :class:`~toolkit.errors.EmptyResultError` (nothing
        written) unless ``allow_empty``.

        Example::

            report = catalog.datasets.export("birds@v1", "birds-coco", to="coco")
            print(report.images, report.annotations)
        """
        from .._outputs import check_outputs
        from ..convert._options import with_settings
        from ..subset import filter_inputs

        cat = self._catalog
        options = dataclasses.replace(with_settings(options, settings), limits=cat.limits)
        allow_empty = options.allow_empty
        version = cat.version(ref)
        path = require_file(version)
        out = Path(output)
        if not version.inputs_count and not allow_empty:
            raise EmptyResultError(
                f"{version.ref}: the version holds no inputs, so the export would hold none; "
                "nothing was written (pass allow_empty=True to write it)",
                params=["allow_empty=True"],
            )
        found = cat.default_filter(version.ref) if default_filter else None
        if found is not None:
            check_outputs({"output": out}, [path], existing_ok={"output"})
            with Workspace(self._store.ensure_home()) as ws:
                kept = ws.path / "filtered.zip"
                filter_inputs(
                    path, kept, criteria=found.criteria, allow_empty=allow_empty, limits=cat.limits
                )
                report = self._export_file(kept, version, out, to, options, progress)
            return dataclasses.replace(report, sources=(str(path),))
        return self._export_file(path, version, out, to, options, progress)

    def _export_file(
        self,
        path: Path,
        version: VersionInfo,
        out: Path,
        to: str,
        options: ConvertOptions,
        progress: Callable[[int], None] | None,
    ) -> ConvertReport:
        from .._atomic import atomic_file
        from .._outputs import check_outputs
        from ..convert import ConvertOptions, ConvertReport, convert_archives

        cat = self._catalog
        with ArchiveReader(path, limits=cat.limits) as reader:
            flavour = reader.flavour
            entries = len(reader.entries)
        # Settings other than these change a protobuf copy, so it is converted then.
        plain = dataclasses.replace(options, force=False, allow_empty=False)
        if (
            to == "protobuf"
            and flavour == "protobuf"
            and plain == ConvertOptions(limits=cat.limits)
        ):
            if out.is_dir():
                raise OutputError(f"{out}: is a folder; give a .zip file name")
            check_outputs({"output": out}, [path], existing_ok={"output"})
            try:
                with atomic_file(out) as tmp:
                    shutil.copyfile(path, tmp)
            except OSError as exc:
                raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
            if progress is not None:
                progress(version.entries_count)
            if path != version.archive:  # filtered: count what was kept
                with ArchiveReader(path, limits=cat.limits, allow_empty=True) as reader:
                    inputs = sum(len(batch.inputs) for _entry, batch in reader.iter_batches())
            else:
                inputs = version.inputs_count
            return ConvertReport(
                format="protobuf",
                output=str(out),
                sources=(str(path),),
                inputs=inputs,
                batches=entries,
                written=inputs,
            )
        return convert_archives([path], out, to=to, options=options, progress=progress)


# -- helpers -----------------------------------------------------------------------------


def _source_path(catalog: Catalog, source: str | os.PathLike[str]) -> tuple[Path, str]:
    """A source given as a file (a path, or a str naming an existing file) or a reference."""
    if isinstance(source, os.PathLike) or Path(source).is_file():
        path = Path(source)
        if not path.is_file():
            raise ArchiveError(f"{path}: no such file")
        return path, str(path)
    version = catalog.version(source)
    return require_file(version), version.ref


def check_cover_url(url: str) -> str:
    """``url`` when it is an http(s) URL with a host; else a :class:`CatalogError`."""
    parts = urlsplit(url)
    bad = any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or bad:
        raise CatalogError(
            f"cover image URL {url!r}: only http:// and https:// URLs with a host are "
            "taken; for a local file use cover_image=FILE",
            params=["cover_image=FILE"],
        )
    return url


def _check_depth(value: Any, limit: int, depth: int = 0) -> None:
    if depth > limit:
        raise ValueError(f"metadata is nested deeper than {limit} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, limit, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, limit, depth + 1)


_COVER_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp"}


def _prepare_cover(path: Path, workdir: Path, limits: Limits) -> tuple[Path, str]:
    """Check that ``path`` is an image and copy it into ``workdir``; return (copy, home name)."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        with open_image(path, max_pixels=limits.max_image_pixels, where=str(path)) as img:
            fmt = img.format or ""
            img.verify()
    except (LimitError, MediaError) as exc:
        raise MediaError(f"{exc}; give a PNG or JPEG file") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(f"{path}: not a readable image ({exc}); give a PNG or JPEG file") from None
    sha, _size = file_sha256(path)
    name = f"covers/{sha[:24]}{_COVER_FORMATS.get(fmt, path.suffix.lower() or '.img')}"
    part = workdir / "cover"
    shutil.copyfile(path, part)
    return part, name


def _keep_only(source: Path, ids: Iterable[str], dest: Path, limits: Limits) -> Path:
    """A copy of ``source`` holding only the inputs ``ids`` (for ``datasets merge --ids-from``).

    An id the source does not hold is an error: the merge would silently lack it.
    """
    from ..archive import ArchiveWriter

    wanted = set(ids)
    if not wanted:
        raise ValueError("no input ids given")
    seen: set[str] = set()
    with ArchiveReader(source, limits=limits) as reader, ArchiveWriter(dest) as writer:
        for _entry, batch in reader.iter_batches():
            for record in batch.inputs:
                if record.id in wanted:
                    writer.add(record)
                    seen.add(record.id)
    missing = sorted(wanted - seen)
    if missing:
        dest.unlink(missing_ok=True)
        raise InputNotFoundError(
            f"{source}: {len(missing)} of the ids to merge are not in it ({shown_ids(missing)}); "
            "nothing was changed"
        )
    return dest
