"""What every converter shares: the job settings, the batches it is fed, its protocol."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Literal, Protocol

from .._native import scan_batch
from ..archive import ArchiveReader, ArchiveWriter, BatchEntry, Flavour
from ..errors import ConflictError, EmptyArchiveError
from ..messages import InputBatch
from ..unknown import find_unknown_fields
from ._counts import ConvertCounts

if TYPE_CHECKING:
    from ._options import ConvertOptions

__all__ = ["ConvertJob", "Converter", "MediaChoice", "OutputKind", "SourceBatch"]

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


class SourceBatch:
    """One batch entry of one source archive: parsed, or (for a converter that reads the
    wire bytes itself) its checked bytes and input ids, parsed only when asked."""

    __slots__ = (
        "_parsed",
        "entry",
        "ids",
        "raw",
        "reader",
        "source",
        "source_index",
        "unknown_fields",
        "unknown_ids",
    )

    def __init__(
        self,
        reader: ArchiveReader,
        source_index: int,
        entry: BatchEntry,
        batch: InputBatch | None = None,
        unknown_ids: list[str] | None = None,
        unknown_fields: set[tuple[str, int]] | None = None,
        *,
        raw: bytes | None = None,
        ids: list[str] | None = None,
    ) -> None:
        #: The archive it comes from, and its position among the sources (from 0).
        self.reader = reader
        self.source: Path = reader.path
        self.source_index = source_index
        self.entry = entry
        self._parsed = batch
        #: Ids of inputs in this batch that carry fields the toolkit does not model (only
        #: filled when the converter asks for the check).
        self.unknown_ids = unknown_ids if unknown_ids is not None else []
        #: Where those fields are: (message type, field number), as
        #: :func:`toolkit.unknown.find_unknown_fields` gives them.
        self.unknown_fields = unknown_fields if unknown_fields is not None else set()
        #: The entry's bytes, checked by the C reader (``toolkit._native.scan_batch``),
        #: and its input ids; None when the batch was parsed instead.
        self.raw = raw
        self.ids = ids

    @property
    def batch(self) -> InputBatch:
        """The parsed batch (parsed here on first use when only its bytes were read)."""
        if self._parsed is None:
            assert self.raw is not None
            self._parsed = self.reader.parse_batch(self.entry, self.raw)
        return self._parsed

    @property
    def count(self) -> int:
        """How many inputs the batch holds."""
        if self._parsed is None and self.ids is not None:
            return len(self.ids)
        return len(self.batch.inputs)


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


def iter_source_batches(
    readers: Sequence[ArchiveReader], *, check_unknown: bool, raw: bool = False
) -> Iterator[SourceBatch]:
    """Every batch of every source, in order, with repeated input ids refused.

    With ``raw`` (and the C reader built), protobuf entries come as checked bytes and
    input ids, not parsed (an entry the C reader leaves to protobuf is parsed as always).
    Memory holds one batch and the set of ids seen so far.
    """
    owner: dict[str, int] = {}
    raw = raw and not check_unknown
    for index, reader in enumerate(readers):
        seen_any = False
        # The C reader stops at 16 levels of nesting (metadata 5 deep): a lower metadata
        # limit than 8 is left to the parse, which checks it.
        fast = raw and reader.flavour == "protobuf" and reader.limits.max_metadata_depth >= 8
        for entry in reader.entries:
            unknown: list[str] = []
            where: set[tuple[str, int]] = set()
            if fast:
                data = reader.read_batch_bytes(entry)
                ids = scan_batch(data)
                if ids is not None:
                    source_batch = SourceBatch(reader, index, entry, raw=data, ids=ids)
                else:
                    batch = reader.parse_batch(entry, data)
                    ids = [r.id for r in batch.inputs]
                    source_batch = SourceBatch(reader, index, entry, batch)
            else:
                batch = reader.read_batch(entry)
                if check_unknown and reader.flavour == "protobuf" and entry.size:
                    # Cheap test per batch (the entry's size is that of its wire bytes);
                    # the inputs themselves are looked at only when it fires.
                    batch.DiscardUnknownFields()
                    if batch.ByteSize() != entry.size:
                        for record in reader.read_batch(entry).inputs:
                            found = find_unknown_fields(record)
                            if found:
                                unknown.append(record.id)
                                where |= found
                ids = [r.id for r in batch.inputs]
                source_batch = SourceBatch(reader, index, entry, batch, unknown, where)
            fresh = dict.fromkeys(ids, index)
            if len(fresh) != len(ids) or not owner.keys().isdisjoint(fresh):
                _refuse_repeated(readers, owner, ids, index, entry)
            owner.update(fresh)
            seen_any = seen_any or len(ids) > 0
            yield source_batch
        if not seen_any and not reader.allow_empty:
            raise EmptyArchiveError(
                f"{reader.path}: the archive holds no inputs; nothing was written (pass "
                "allow_empty=True to write an empty output)",
                params=["allow_empty=True"],
            )


def _refuse_repeated(
    readers: Sequence[ArchiveReader],
    owner: dict[str, int],
    ids: list[str],
    index: int,
    entry: BatchEntry,
) -> None:
    """Raise the conflict for the first of ``ids`` seen before (in ``owner``, the ids of
    the batches before, or earlier in ``ids``)."""
    for input_id in ids:
        if input_id in owner:
            raise _conflict(readers, owner[input_id], index, input_id, entry)
        owner[input_id] = index


def _conflict(
    readers: Sequence[ArchiveReader], first: int, second: int, input_id: str, entry: BatchEntry
) -> ConflictError:
    if first == second:
        return ConflictError(
            f"{readers[second].path}: input id {input_id!r} appears twice (again in entry "
            f"{entry.name!r}); an output cannot hold two inputs with one id. Keep one with "
            "'clarifai-archive merge', which decides what to do with repeated ids"
        )
    return ConflictError(
        f"input id {input_id!r} is in both {readers[first].path} and {readers[second].path}; "
        "convert does not merge. Combine them first with 'clarifai-archive merge', which "
        "decides what to keep, then convert the merged archive"
    )


class ArchiveConverter:
    """Shared body of the converters whose output is an archive (json and protobuf).

    Subclasses set ``flavour`` and, where inputs need other handling, ``write_batch``.
    """

    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = False
    supports_stdout: ClassVar[bool] = False
    reads_raw: bool = False
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
        for record in batch.batch.inputs:
            add(record)
        self._added += len(batch.batch.inputs)

    def finish(self) -> ConvertCounts:
        return ConvertCounts(written=self._added)

    def commit(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()
