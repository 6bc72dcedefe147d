"""What the training-folder formats (``--to yolo``, ``--to voc``) share.

An output folder written under a temporary name, image inputs only (others counted and
skipped), one :class:`~toolkit.media.FileNamer` for every file stem (a label file and its
image share a stem), media written per split through :class:`~toolkit.media.MediaSink`,
the split of each input read from the ``split`` metadata key that ``split --tag`` writes,
and a class table of the regions' positive concepts in the order they first appear.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from .._atomic import atomic_dir
from ..errors import ArchiveError, OutputError
from ..media import FileNamer, MediaReport, MediaSink
from ..messages import Input
from ..records import input_type
from ._base import BatchWork, ConvertJob, OutputKind, SourceBatch, check_split
from ._counts import ConvertCounts
from ._options import media_sink_extras

__all__ = ["SPLIT_KEY", "ClassTable", "TrainingFolderConverter", "split_of"]

#: The metadata key ``clarifai-archive split --tag`` writes (toolkit/split.py).
SPLIT_KEY = "split"
#: The longest split name (it becomes part of file and folder names).
_MAX_SPLIT = 100


def split_of(record: Input) -> str | None:
    """The input's split from its ``split`` metadata (a string), or None when untagged.

    A value that cannot be a folder or file name part is an :class:`ArchiveError`.
    """
    data = record.data
    if not data.HasField("metadata"):
        return None
    value = data.metadata.fields.get(SPLIT_KEY)
    if value is None or value.WhichOneof("kind") != "string_value":
        return None
    name = value.string_value
    try:
        if "/" in name or len(name) > _MAX_SPLIT:
            raise ValueError(name)
        return check_split(name)
    except ValueError:
        raise ArchiveError(
            f"input {record.id!r}: its metadata 'split' is {name!r}, which cannot name a "
            f"split (up to {_MAX_SPLIT} letters, digits, '.', '_' and '-'); retag it with "
            "'clarifai-archive split --tag' or remove the key"
        ) from None


class ClassTable:
    """Class ids from 0 for the regions' positive concepts, in first-appearance order.

    A concept's name is its ``name`` (its id when it has none); a name shared by two
    concepts gets `` (<id>)`` added, as in COCO's categories.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._concepts: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def index(self, concept_id: str, name: str) -> int:
        """The class id of a concept, given one on first sight."""
        index = self._ids.get(concept_id)
        if index is None:
            index = self._ids[concept_id] = len(self._ids)
            self._concepts.append(concept_id)
            self._names.append(name)
        elif not self._names[index] and name:
            self._names[index] = name
        return index

    def names(self) -> list[str]:
        """The class names by class id (unique)."""
        counts: dict[str, int] = {}
        plain = [name or cid for name, cid in zip(self._names, self._concepts, strict=True)]
        for name in plain:
            counts[name] = counts.get(name, 0) + 1
        return [
            f"{name} ({cid})" if counts[name] > 1 else name
            for name, cid in zip(plain, self._concepts, strict=True)
        ]

    def concept_ids(self) -> list[str]:
        """The concept ids by class id."""
        return list(self._concepts)


def _positive_classes(table: ClassTable, region: Any) -> list[int]:
    return [table.index(c.id, c.name) for c in region.data.concepts if c.value > 0]


def clip01(value: float) -> float:
    """``value`` clipped to [0, 1]."""
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


class TrainingFolderConverter:
    """Shared body of ``--to yolo`` and ``--to voc``; subclasses say where images go
    (:meth:`image_folder`) and write the labels (:meth:`write_labels`, :meth:`write_index`).
    """

    output_kind: ClassVar[OutputKind] = "folder"
    supports_media: ClassVar[bool] = True
    batch_work: BatchWork | None = None
    batch_scratch: int = 0
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = False
    reads_raw: bool = False
    #: What an earlier run of the format leaves in its folder (removed, media excepted).
    generated: ClassVar[tuple[str, ...]] = ()

    def __init__(self, job: ConvertJob) -> None:
        self.job = job
        self._keep = job.options.media == "download"
        self._dir_cm = atomic_dir(job.output_path, keep=self._keep)
        try:
            self.root = self._dir_cm.__enter__()
        except OSError as exc:
            raise OutputError(
                f"{job.output_path}: cannot write here ({exc.strerror or exc})"
            ) from None
        self._sinks: dict[Path, MediaSink] = {}
        self.namer = FileNamer()
        self.classes = ClassTable()
        #: Image inputs by split.
        self.split_counts: dict[str, int] = {}
        self._media_names: dict[Path, set[str]] = {}
        self.annotations = 0
        self.skipped: dict[str, int] = {}
        self.regions_without_concept = 0
        self.regions_without_shape = 0
        self.without_size: list[str] = []
        #: Folders made so far (a label file per image: one mkdir call per folder).
        self._folders: set[Path] = set()
        try:
            self._clear_generated()
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.root}: cannot clear it ({exc.strerror or exc})") from None

    def _clear_generated(self) -> None:
        """Remove the labels and index files (of an earlier run, or of this failed one)."""
        for name in self.generated:
            path = self.root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    # -- for subclasses ----------------------------------------------------------

    def image_folder(self, split: str) -> Path:
        """The folder that holds the images of ``split``."""
        raise NotImplementedError

    def write_labels(self, record: Input, split: str, stem: str, file_name: str) -> None:
        """Write the labels of one image input."""
        raise NotImplementedError

    def write_index(self, renamed: dict[str, str]) -> None:
        """Write what lists the splits and classes, once every input is done."""
        raise NotImplementedError

    def default_split(self) -> str:
        """The split of an untagged input."""
        return "train"

    def labelled(self, region: Any) -> list[int]:
        """The class ids of a region (counted as without concept when none)."""
        classes = _positive_classes(self.classes, region)
        if not classes:
            self.regions_without_concept += 1
        return classes

    def write_file(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` (inside the output), creating its folder."""
        try:
            parent = path.parent
            if parent not in self._folders:
                parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(parent)
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise OutputError(f"{path}: write failed ({exc.strerror or exc})") from None

    # -- converting --------------------------------------------------------------

    def write_batch(self, batch: SourceBatch) -> None:
        from .coco import _declared_ext  # coco imports this module

        for record in batch.batch.inputs:
            if not record.data.HasField("image"):
                kind = input_type(record)
                self.skipped[kind] = self.skipped.get(kind, 0) + 1
                continue
            split = split_of(record) or self.default_split()
            stem = self.namer.stem_for(record.id)
            name = None
            if self.job.options.media != "none":
                name = self._sink(split).submit(record)
                if name is not None and self._keep:
                    self._media_names.setdefault(self.image_folder(split), set()).add(name)
            if name is None:
                name = f"{stem}.{_declared_ext('image', record.data.image)}"
            self.split_counts[split] = self.split_counts.get(split, 0) + 1
            self.write_labels(record, split, stem, name)

    def _sink(self, split: str) -> MediaSink:
        # One sink per folder: a new sink clears the temporary files it finds there.
        folder = self.image_folder(split)
        sink = self._sinks.get(folder)
        if sink is None:
            job = self.job
            sink = self._sinks[folder] = MediaSink(
                folder,
                mode="download" if job.options.media == "download" else "embedded",
                jobs=job.options.jobs,
                timeout=job.options.timeout,
                retries=job.options.retries,
                pat=job.options.pat,
                on_done=job.media_progress,
                namer=self.namer,
                limits=job.options.limits,
                **media_sink_extras(),
            )
        return sink

    def finish(self) -> ConvertCounts:
        report: MediaReport | None = None
        for sink in self._sinks.values():
            done = sink.close()
            report = done if report is None else report.combined(done)
        renamed = dict(report.renamed) if report is not None else {}
        if self._keep:
            self._prune(renamed.values())
        self.write_index(renamed)
        images = sum(self.split_counts.values()) - len(self.without_size)
        return ConvertCounts(
            written=images,
            images=images,
            annotations=self.annotations,
            categories=len(self.classes),
            skipped_inputs=dict(sorted(self.skipped.items())),
            regions_without_concept=self.regions_without_concept,
            regions_without_shape=self.regions_without_shape,
            images_without_size=tuple(self.without_size),
            media=report,
        )

    def media_folders(self) -> list[Path]:
        """The media folders of this and earlier runs (stale files there are removed)."""
        raise NotImplementedError

    def _prune(self, renamed: Iterable[str]) -> None:
        """Remove media files an earlier run left that belong to no input of this one."""
        extra = set(renamed)
        for folder in self.media_folders():
            keep = self._media_names.get(folder, set()) | extra
            with os.scandir(folder) as entries:
                stale = [e.path for e in entries if e.is_file() and e.name not in keep]
            for item in stale:
                with contextlib.suppress(OSError):
                    os.unlink(item)

    def commit(self) -> None:
        self._dir_cm.__exit__(None, None, None)

    def abort(self) -> None:
        for sink in self._sinks.values():
            with contextlib.suppress(Exception):
                sink.abort()
        if self._keep:  # the finished downloads go back in place; the labels do not
            with contextlib.suppress(OSError):
                self._clear_generated()
        error = _Aborted()
        with contextlib.suppress(_Aborted):
            self._dir_cm.__exit__(_Aborted, error, None)


class _Aborted(Exception):
    """Handed to the output folder's context manager to make it clean up."""
