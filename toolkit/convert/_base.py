"""What every converter shares: the job settings, the batches it is fed, its protocol."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Literal, Protocol

from ..archive import ArchiveWriter, Flavour
from ..batches import Batch, BatchWork
from ._counts import ConvertCounts

if TYPE_CHECKING:
    from ._options import ConvertOptions

__all__ = ["BatchWork", "ConvertJob", "Converter", "MediaChoice", "OutputKind", "SourceBatch"]

log = logging.getLogger("toolkit.convert")

MediaChoice = Literal["none", "embedded", "download"]
OutputKind = Literal["file", "folder"]
_SPLIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")


def _default_options() -> ConvertOptions:
    from ._options import ConvertOptions

    return ConvertOptions()


@dataclass(frozen=True)
class ConvertJob:
    """One conversion, handed to the converter of the chosen format: where it reads and
    writes, and its settings (:class:`~toolkit.convert.ConvertOptions`)."""

    #: Where the output goes: a path, or a binary stream for formats that allow it.
    output: Path | BinaryIO
    #: The source archives, in order.
    sources: tuple[Path, ...]
    options: ConvertOptions = field(default_factory=_default_options)
    #: Processes that encode JSON (json, jsonl): ``options.workers`` or the automatic
    #: choice for the sources' size; 1: this process alone.
    workers: int = 1
    #: Called with the number of inputs whose media is finished (written, reused, skipped
    #: or failed) since the last call.
    media_progress: Callable[[int], None] | None = None

    @property
    def output_path(self) -> Path:
        """The output as a path (formats that never write to a stream use this)."""
        assert isinstance(self.output, Path)
        return self.output


#: One batch of a source archive (see :mod:`toolkit.batches`): parsed, or (for a
#: converter that reads the wire bytes itself) its checked bytes and input ids, parsed
#: only when asked; :attr:`Batch.result` holds what :attr:`Converter.batch_work` made.
SourceBatch = Batch


class Converter(Protocol):
    """One output format: made from a :class:`ConvertJob`, fed batch by batch, then
    finished, and either committed (the output appears) or aborted (nothing is left,
    except media files finished for a resumable download).

    Example::

        converter = FORMATS["jsonl"](job)
        try:
            for batch in batches:
                converter.write_batch(batch)
            counts = converter.finish()
            converter.commit()
        except BaseException:
            converter.abort()
            raise
    """

    #: The ``--to`` name.
    name: ClassVar[str]
    #: One line for the help text.
    summary: ClassVar[str]
    #: ``file`` (a zip or a .jsonl) or ``folder``.
    output_kind: ClassVar[OutputKind]
    #: Whether ``--media embedded|download`` applies.
    supports_media: ClassVar[bool]
    #: Whether ``-o -`` (standard output) is allowed.
    supports_stdout: ClassVar[bool]
    #: Whether inputs with unknown fields should be found and reported (JSON has no room).
    check_unknown: ClassVar[bool]
    #: Whether the batches may come as checked wire bytes (``SourceBatch.raw``) instead
    #: of parsed: for a converter with its own reader of the bytes.
    reads_raw: bool
    #: Work on each batch that may run in worker processes (``job.workers``), its result
    #: handed to :meth:`write_batch` as ``batch.result``; None: all in :meth:`write_batch`.
    batch_work: BatchWork | None
    #: Bytes of memory shared with the workers per range of entries, for a
    #: :attr:`batch_work` that leaves its results there (``Batch.scratch``); 0: none.
    batch_scratch: int

    def __init__(self, job: ConvertJob) -> None: ...

    def write_batch(self, batch: SourceBatch) -> None:
        """Convert one batch."""

    def finish(self) -> ConvertCounts:
        """Complete the work (media included) and return counts for the report."""

    def commit(self) -> None:
        """Move the finished output into place."""

    def abort(self) -> None:
        """Remove what was written (finished downloads of a resumable run are kept)."""


def check_split(split: str) -> str:
    """The split folder name, checked: relative, no ``..``, letters, digits, ``._-`` and ``/``."""
    if not _SPLIT.match(split) or any(part in (".", "..") for part in split.split("/")):
        raise ValueError(
            f"bad split name {split!r}: use letters, digits, '.', '_' and '-' "
            "(and '/' between folders), like 'all' or 'train'"
        )
    return split


class ArchiveConverter:
    """Shared body of the converters whose output is an archive (json and protobuf).

    Subclasses set ``flavour`` and, where inputs need other handling, ``write_batch``.
    """

    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = False
    supports_stdout: ClassVar[bool] = False
    reads_raw: bool = False
    batch_work: BatchWork | None = None
    batch_scratch: int = 0
    flavour: ClassVar[Flavour]

    def __init__(self, job: ConvertJob) -> None:
        options = job.options
        self._writer = ArchiveWriter(
            job.output_path,
            batch_size=options.batch_size,
            flavour=self.flavour,
            split=options.split,
        )
        self._added = 0

    def write_batch(self, batch: SourceBatch) -> None:
        add = self._writer.add
        inputs = batch.batch.inputs
        for record in inputs:
            add(record)
        self._added += len(inputs)

    def finish(self) -> ConvertCounts:
        return ConvertCounts(written=self._added)

    def commit(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()
