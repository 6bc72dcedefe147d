"""Read and write Clarifai dataset export archives as a stream of batches.

An archive is a zip holding a ``mimetype`` entry and batch entries, each one
serialized ``clarifai.api.InputBatch`` (protobuf flavour) or its JSON mapping
(Clarifai-Data-JSON flavour). See ``shared/FORMAT.md``.

Example::

    with ArchiveReader("clarifai-data-protobuf.zip") as reader:
        for record in reader.iter_inputs():
            print(record.id)

    write_archive("copy.zip", inputs, batch_size=256)
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import lzma
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError

from ._atomic import temp_sibling
from ._wire import encode_varint as _varint
from .errors import ArchiveError, EmptyArchiveError, InputNotFoundError, LimitError, OutputError
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input, InputBatch
from .safety import check_metadata_depth, count_json_objects, count_wire_objects

__all__ = [
    "JSON_MIMETYPE",
    "PROTOBUF_MIMETYPE",
    "ArchiveReader",
    "ArchiveWriter",
    "BatchEntry",
    "Flavour",
    "RawEntry",
    "encode_batch",
    "write_archive",
]

log = logging.getLogger(__name__)

PROTOBUF_MIMETYPE = b"application/x.clarifai-data+protobuf"
JSON_MIMETYPE = b"application/x.clarifai-data+json"
Flavour = Literal["protobuf", "json"]
_FLAVOURS: dict[bytes, Flavour] = {PROTOBUF_MIMETYPE: "protobuf", JSON_MIMETYPE: "json"}
_MIMETYPE_FOR: dict[str, bytes] = {v: k for k, v in _FLAVOURS.items()}
#: At most 18 digits: a longer run of digits is no count (and would overflow int()).
_COUNT_SUFFIX = re.compile(r"_n(\d{1,18})$")
#: Compression methods read with bounded memory (zipfile's bzip2 and LZMA readers
#: decompress a whole read at once, whatever the entry's declared size).
_SAFE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64"}
#: Errors zipfile and its decompressors raise on damaged data.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    RuntimeError,
    struct.error,
)
#: A fixed timestamp makes the same inputs give byte-identical archives.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: The deepest input metadata protobuf's parser accepts (its limit is 100 nested messages;
#: a list level costs two, a struct level three). Lower limits are checked by walking.
PARSED_METADATA_DEPTH = 48
#: Fixed part of a zip local file header; the name and extra field follow it.
_LOCAL_HEADER_SIZE = 30
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
#: Stored entries are read with one positioned read (see ``ArchiveReader._read_stored``).
_PREAD = hasattr(os, "pread")
#: Bytes copied per read when the kernel cannot copy between the files itself.
_COPY_CHUNK = 1 << 20


def zip_entry_info(name: str, compress_type: int = zipfile.ZIP_STORED) -> zipfile.ZipInfo:
    """A zip entry header that gives the same bytes on every run: a fixed date, mode 0644."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    return info


@dataclass(frozen=True)
class BatchEntry:
    """One batch entry of an archive, as its central directory describes it."""

    #: Position among the archive's batch entries, from 0.
    index: int
    #: Entry name inside the zip, e.g. ``all/input-batch-000000_n128``.
    name: str
    #: Uncompressed size in bytes.
    size: int
    #: Compressed size in bytes.
    compressed_size: int
    #: Inputs the ``_n<count>`` suffix announces, or None when the name has none.
    declared_count: int | None
    #: CRC-32 of the uncompressed bytes, as the central directory gives it (checked when
    #: the entry is read).
    crc: int
    #: zip compression method (``zipfile.ZIP_STORED`` or ``zipfile.ZIP_DEFLATED``).
    compress_type: int

    @property
    def split(self) -> str:
        """The folder part of the name (the SDK's split), ``""`` at the top level."""
        return self.name.rpartition("/")[0]


@dataclass(frozen=True)
class RawEntry:
    """Where an entry's compressed bytes lie in the archive file, and how to decode them.

    Made by :meth:`ArchiveReader.raw_entry`, used by :meth:`ArchiveWriter.copy_entry`.
    """

    #: Entry name inside the zip.
    name: str
    #: Offset of the compressed bytes in the file (after the local file header).
    offset: int
    #: Compressed size in bytes.
    compress_size: int
    #: Uncompressed size in bytes.
    file_size: int
    #: CRC-32 of the uncompressed bytes.
    crc: int
    #: zip compression method (``zipfile.ZIP_STORED`` or ``zipfile.ZIP_DEFLATED``).
    compress_type: int


class ArchiveReader:
    """Stream the inputs of one archive, batch by batch, in the archive's order.

    Memory does not grow with the archive: one batch is held at a time. Both
    flavours are read; fields the toolkit does not model are kept as protobuf
    unknown fields (protobuf flavour), so a rewrite loses nothing.

    An archive with no inputs (a ``mimetype`` entry and no batch, or only empty batches)
    is read as empty, as the toolkit writes it with ``--allow-empty``; with
    ``allow_empty=False`` it is an :class:`~toolkit.errors.EmptyArchiveError` instead. A
    zip without the ``mimetype`` entry is never taken for an empty export.

    Example::

        with ArchiveReader(path) as reader:
            print(reader.flavour, len(reader.entries))
            record = reader.get_input("img-001")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        limits: Limits = DEFAULT_LIMITS,
        allow_empty: bool = True,
        fileobj: IO[bytes] | None = None,
    ) -> None:
        self.path = Path(path)
        self.limits = limits
        self.allow_empty = allow_empty
        #: A seekable binary file to read instead of ``path`` (an fsspec file: ``s3://``...);
        #: ``path`` then only names the archive in messages. The caller closes it.
        self._fileobj = fileobj
        self._locations: dict[str, int] = {}
        self._indexed_upto = 0
        self._last_batch: tuple[int, InputBatch] | None = None
        try:
            _check_directory(self.path, limits, fileobj)
            self._zip = zipfile.ZipFile(self.path if fileobj is None else fileobj)
        except FileNotFoundError:
            raise ArchiveError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise ArchiveError(f"{self.path}: is a folder, not a zip archive") from None
        except PermissionError:
            raise ArchiveError(f"{self.path}: permission denied") from None
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            EOFError,
            struct.error,
            NotImplementedError,  # "zip file version 14.8" from a garbled directory
        ) as exc:
            raise ArchiveError(
                f"{self.path}: not a zip archive ({exc}); expected a Clarifai dataset export "
                "such as clarifai-data-protobuf.zip, downloaded completely"
            ) from None
        try:
            self._check_structure()
            self.flavour: Flavour = self._read_mimetype()
            self.entries: list[BatchEntry] = self._list_entries()
        except BaseException:
            self._zip.close()
            raise

    # -- opening -----------------------------------------------------------------

    def _check_structure(self) -> None:
        """Refuse what could not be read safely, before any entry is decompressed."""
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise LimitError(
                f"{self.path}: {len(infos)} zip entries exceed the limit of "
                f"{limits.max_entries}; raise it with limits.max_entries if the archive is trusted",
                params=["limits.max_entries"],
            )
        total = 0
        for info in infos:
            total += info.file_size
            if info.flag_bits & 0x1:
                raise ArchiveError(
                    f"{self.path}: entry {info.filename!r} is encrypted; Clarifai exports are "
                    "not, so decrypt or re-export the archive"
                )
            if info.compress_type not in _SAFE_METHODS and not info.filename.endswith("/"):
                method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
                raise ArchiveError(
                    f"{self.path}: entry {info.filename!r} is compressed with {method}; only "
                    "stored and deflated entries are read (as Clarifai writes them), so re-zip "
                    "the archive with deflate"
                )
        try:
            file_size = self._file_size()
        except (OSError, AttributeError, ValueError):  # pragma: no cover - zip is open
            file_size = 0
        if file_size and total > limits.ratio_exempt_bytes and total > limits.max_ratio * file_size:
            raise LimitError(
                f"{self.path}: expands to {total} bytes from {file_size} (ratio over "
                f"{limits.max_ratio:g}), which looks like a zip bomb; raise limits.max_ratio "
                "if the archive is trusted",
                params=["limits.max_ratio"],
            )
        # Entries whose data overlap (several entries reading the same compressed bytes)
        # are the trick of non-recursive zip bombs; a real zip never has them.
        spans = sorted(
            (info.header_offset, _LOCAL_HEADER_SIZE + info.compress_size, info.filename)
            for info in infos
        )
        for (start, length, name), (next_start, _, next_name) in zip(
            spans, spans[1:], strict=False
        ):
            if start + length > next_start:
                raise ArchiveError(
                    f"{self.path}: entries {name!r} and {next_name!r} overlap inside the zip, "
                    "a zip bomb trick; the archive is not a genuine export"
                )
        if spans and file_size and spans[-1][0] + spans[-1][1] > file_size:
            raise ArchiveError(
                f"{self.path}: entry {spans[-1][2]!r} runs past the end of the file; the "
                "archive is truncated, download it again"
            )

    def _read_mimetype(self) -> Flavour:
        try:
            info = self._zip.getinfo("mimetype")
        except KeyError:
            raise ArchiveError(
                f"{self.path}: no 'mimetype' entry, so this is not a Clarifai dataset export; "
                "export the dataset version as Clarifai-Data-Protobuf and download that zip"
            ) from None
        if info.file_size > 256:
            raise ArchiveError(f"{self.path}: the 'mimetype' entry is {info.file_size} bytes long")
        try:
            value = self._zip.read(info)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{self.path}: entry 'mimetype' is unreadable ({exc})") from None
        flavour = _FLAVOURS.get(value)
        if flavour is None:
            shown = value[:80].decode("utf-8", "replace")
            raise ArchiveError(
                f"{self.path}: unknown mimetype {shown!r}; expected "
                f"{PROTOBUF_MIMETYPE.decode()!r} or {JSON_MIMETYPE.decode()!r}"
            )
        return flavour

    def _list_entries(self) -> list[BatchEntry]:
        infos = self._zip.infolist()
        limits = self.limits
        entries: list[BatchEntry] = []
        self._infos: list[zipfile.ZipInfo] = []
        total = 0
        for info in infos:
            name = info.filename
            if name.endswith("/") or name == "mimetype":  # folders (is_dir() fails on "")
                continue
            if info.file_size > limits.max_batch_bytes:
                raise LimitError(
                    f"{self.path}: entry {name!r} is {info.file_size} bytes uncompressed, over the "
                    f"limit of {limits.max_batch_bytes}; raise it with limits.max_batch_bytes "
                    "if the archive is trusted",
                    params=["limits.max_batch_bytes"],
                )
            if (
                info.file_size > limits.ratio_exempt_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise LimitError(
                    f"{self.path}: entry {name!r} expands {info.file_size} bytes from "
                    f"{info.compress_size} (ratio over {limits.max_ratio:g}), which looks like a "
                    "zip bomb; raise limits.max_ratio if the archive is trusted",
                    params=["limits.max_ratio"],
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise LimitError(
                    f"{self.path}: over {limits.max_total_bytes} bytes uncompressed in all; raise "
                    "limits.max_total_bytes if the archive is trusted",
                    params=["limits.max_total_bytes"],
                )
            match = _COUNT_SUFFIX.search(name)
            self._infos.append(info)
            entries.append(
                BatchEntry(
                    index=len(entries),
                    name=name,
                    size=info.file_size,
                    compressed_size=info.compress_size,
                    declared_count=int(match.group(1)) if match else None,
                    crc=info.CRC,
                    compress_type=info.compress_type,
                )
            )
        if not entries and not self.allow_empty:
            raise EmptyArchiveError(
                f"{self.path}: the archive holds no inputs; pass allow_empty=True to accept it",
                params=["allow_empty=True"],
            )
        return entries

    # -- context manager ---------------------------------------------------------

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zip.close()

    def __repr__(self) -> str:
        return f"ArchiveReader({str(self.path)!r}, flavour={self.flavour!r})"

    # -- reading -----------------------------------------------------------------

    @property
    def mimetype(self) -> str:
        """The archive's mimetype string."""
        return _MIMETYPE_FOR[self.flavour].decode()

    @property
    def declared_count(self) -> int | None:
        """Inputs announced by the entry names' ``_n<count>`` suffixes (None if any lacks one)."""
        total = 0
        for entry in self.entries:
            if entry.declared_count is None:
                return None
            total += entry.declared_count
        return total

    def read_entry_bytes(self, entry: BatchEntry) -> bytes:
        """The uncompressed bytes of one batch entry, size-checked while decompressing."""
        info = self._infos[entry.index]
        if info.compress_type == zipfile.ZIP_STORED and _PREAD and self._fileobj is None:
            data = self._read_stored(info)
            if data is not None:
                return data
        # zipfile returns at most the size the central directory declares (checked against
        # the limit on opening), then checks the CRC: a header that understates the size
        # gives a CRC error. It inflates as much as one read asks for, so the read asks
        # for the declared size, not the limit: memory stays bounded by the declared size.
        try:
            with self._zip.open(info) as stream:
                data = stream.read(min(entry.size, self.limits.max_batch_bytes) + 1)
        except NotImplementedError as exc:
            raise ArchiveError(f"{self.path}: entry {entry.name!r}: {exc}") from None
        except _READ_ERRORS as exc:
            raise ArchiveError(
                f"{self.path}: entry {entry.name!r} is unreadable ({exc}); the archive is "
                "damaged or truncated, download it again"
            ) from None
        if len(data) > self.limits.max_batch_bytes:
            raise LimitError(
                f"{self.path}: entry {entry.name!r} decompresses past the limit of "
                f"{self.limits.max_batch_bytes} bytes; raise limits.max_batch_bytes if trusted",
                params=["limits.max_batch_bytes"],
            )
        return data

    def _read_stored(self, info: zipfile.ZipInfo) -> bytes | None:
        """A stored entry's bytes, read in one call and checked against its CRC-32.

        What zipfile reads, with less work per entry. None when anything is unusual
        (local header, name, sizes, CRC): zipfile then reads the entry, and says why.
        """
        size = info.file_size
        if info.compress_size != size or info.flag_bits & 0x61:  # encrypted, patched
            return None
        fd = self._fileno()
        try:
            name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
            header = os.pread(fd, _LOCAL_HEADER_SIZE + len(name), info.header_offset)
            fields = _LOCAL_HEADER.unpack_from(header)
            if fields[0] != b"PK\x03\x04" or header[_LOCAL_HEADER_SIZE:] != name:
                return None
            data = os.pread(fd, size, info.header_offset + len(header) + fields[10])
        except (OSError, struct.error, UnicodeError):
            return None
        if len(data) != size or zlib.crc32(data) != info.CRC:
            return None
        return data

    def raw_entry(self, entry: BatchEntry) -> RawEntry:
        """Where ``entry``'s compressed bytes lie, for copying them without decompressing.

        The local file header is read (its name and extra field may differ in length from
        the central directory's) to find where the data starts. Nothing is decompressed
        or checked against the CRC: read the entry (:meth:`read_batch`) for that.
        Safe to call from another thread than the one reading batches.
        """
        info = self._infos[entry.index]
        where = f"{self.path}: entry {entry.name!r}"
        try:
            header = self._read_at(info.header_offset, _LOCAL_HEADER_SIZE)
        except OSError as exc:
            raise ArchiveError(f"{where} is unreadable ({exc.strerror or exc})") from None
        if len(header) < _LOCAL_HEADER_SIZE or header[:4] != b"PK\x03\x04":
            raise ArchiveError(
                f"{where} has no local file header where the directory points; the archive "
                "is damaged, download it again"
            )
        fields = _LOCAL_HEADER.unpack(header)
        offset = info.header_offset + _LOCAL_HEADER_SIZE + fields[9] + fields[10]
        if offset + info.compress_size > self._file_size():
            raise ArchiveError(
                f"{where} runs past the end of the file; the archive is truncated, download "
                "it again"
            )
        return RawEntry(
            name=info.filename,
            offset=offset,
            compress_size=info.compress_size,
            file_size=info.file_size,
            crc=info.CRC,
            compress_type=info.compress_type,
        )

    def _fileno(self) -> int:
        fp = self._zip.fp
        if fp is None:
            raise ValueError(f"{self.path}: the reader is closed")
        return fp.fileno()

    def _file_size(self) -> int:
        if self._fileobj is not None:
            size = getattr(self._fileobj, "size", None)
            if isinstance(size, int):
                return size
            with self._zip._lock:  # type: ignore[attr-defined]
                here = self._fileobj.tell()
                size = self._fileobj.seek(0, os.SEEK_END)
                self._fileobj.seek(here)
                return size
        return os.fstat(self._fileno()).st_size

    def _read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``, without moving zipfile's position."""
        if _PREAD and self._fileobj is None:
            return os.pread(self._fileno(), size, offset)
        with self._zip._lock:  # type: ignore[attr-defined]  # pragma: no cover - Windows
            fp = self._zip.fp
            assert fp is not None
            here = fp.tell()
            fp.seek(offset)
            data = fp.read(size)
            fp.seek(here)
            return data

    def read_batch(self, entry: BatchEntry) -> InputBatch:
        """Parse one batch entry into an ``InputBatch``, within the reader's limits."""
        return self.parse_batch(entry, self.read_batch_bytes(entry))

    def read_batch_bytes(self, entry: BatchEntry) -> bytes:
        """One batch entry's bytes, with the limit on objects checked (protobuf flavour;
        :meth:`parse_batch` checks the rest)."""
        data = self.read_entry_bytes(entry)
        limits = self.limits
        # Each field takes two bytes or more: only big entries can hold too many.
        if self.flavour == "protobuf" and len(data) > 2 * limits.max_batch_objects:
            objects = count_wire_objects(
                data,
                cast(Descriptor, InputBatch.DESCRIPTOR),  # types-protobuf: or upb's, the same
                stop_after=limits.max_batch_objects,
            )
            _check_objects(objects, limits, f"{self.path}: entry {entry.name!r}")
        return data

    def parse_batch(self, entry: BatchEntry, data: bytes) -> InputBatch:
        """Parse the bytes :meth:`read_batch_bytes` gave for ``entry``."""
        where = f"{self.path}: entry {entry.name!r}"
        limits = self.limits
        if self.flavour == "protobuf":
            try:
                batch = InputBatch.FromString(data)
            except (DecodeError, RuntimeError, ValueError) as exc:
                if "MaxDepth" in str(exc):
                    raise ArchiveError(
                        f"{where} nests messages deeper than protobuf allows (100 levels, "
                        "about 32 levels of metadata); the archive cannot be read"
                    ) from None
                if "Arena alloc" in str(exc):  # upb ran out of memory: not damage
                    raise MemoryError(str(exc)) from None
                raise ArchiveError(
                    f"{where} is not a readable InputBatch ({exc}); "
                    "the archive is damaged, download it again"
                ) from None
        else:
            if len(data) > limits.max_batch_objects:
                _check_objects(count_json_objects(data), limits, where)
            batch = _parse_json_batch(data, where)
        max_depth = limits.max_metadata_depth
        if max_depth < PARSED_METADATA_DEPTH:  # else the parser has checked it already
            for record in batch.inputs:
                data_field = record.data
                if data_field.HasField("metadata"):
                    check_metadata_depth(
                        data_field.metadata,
                        max_depth=max_depth,
                        where=f"{where}, input {record.id!r}",
                    )
        return batch

    def iter_batches(self) -> Iterator[tuple[BatchEntry, InputBatch]]:
        """Yield ``(entry, batch)`` for every batch entry, in the archive's order."""
        seen_any = False
        for entry in self.entries:
            batch = self.read_batch(entry)
            seen_any = seen_any or len(batch.inputs) > 0
            yield entry, batch
        if not seen_any and not self.allow_empty:
            raise EmptyArchiveError(
                f"{self.path}: the archive holds no inputs; pass allow_empty=True to accept it",
                params=["allow_empty=True"],
            )

    def iter_inputs(self) -> Iterator[Input]:
        """Yield every input, in the archive's order."""
        for _entry, batch in self.iter_batches():
            yield from batch.inputs

    def __iter__(self) -> Iterator[Input]:
        return self.iter_inputs()

    def locate(self, input_id: str) -> BatchEntry:
        """The batch entry holding ``input_id``.

        Entries are parsed only until the id is found, and each at most once per reader:
        the ids seen on the way are remembered for later look-ups.
        """
        index = self._locations.get(input_id)
        if index is not None:
            return self.entries[index]
        while self._indexed_upto < len(self.entries):
            entry = self.entries[self._indexed_upto]
            batch = self.read_batch(entry)
            self._indexed_upto += 1
            for record in batch.inputs:
                self._locations.setdefault(record.id, entry.index)
            if input_id in self._locations:
                self._last_batch = (entry.index, batch)
                return self.entries[self._locations[input_id]]
        raise InputNotFoundError(
            f"{self.path}: no input with id {input_id!r}; list the ids with "
            "'clarifai-archive inputs list'"
        )

    def get_input(self, input_id: str) -> Input:
        """One input by id, parsing entries only until it is found.

        Example::

            with ArchiveReader(path) as reader:
                record = reader.get_input("img-001")
        """
        entry = self.locate(input_id)
        if self._last_batch is not None and self._last_batch[0] == entry.index:
            batch = self._last_batch[1]
        else:
            batch = self.read_batch(entry)
            self._last_batch = (entry.index, batch)
        for record in batch.inputs:
            if record.id == input_id:
                return record
        raise InputNotFoundError(f"{self.path}: no input with id {input_id!r}")  # pragma: no cover


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CD_HEADER = struct.Struct("<4s4H2H3L5H2L")


def _check_directory(path: Path, limits: Limits, fileobj: IO[bytes] | None = None) -> None:
    """Count a zip's entries before zipfile parses its central directory.

    zipfile keeps an object of a few hundred bytes per entry, so a file made of
    central directory records would cost ~10 times its size in memory before
    ``max_entries`` could be checked. Here the declared count is checked, and, when
    the directory is big enough to hold more entries than allowed, its records are
    counted without keeping them. Anything unexpected is left for zipfile to report.
    ``fileobj``: the file to read instead of ``path`` (left open, at its start).
    """
    with contextlib.nullcontext(fileobj) if fileobj is not None else open(path, "rb") as fp:
        size = fp.seek(0, os.SEEK_END)
        tail_size = min(size, _EOCD.size + 0xFFFF + _ZIP64_LOCATOR.size + _ZIP64_EOCD.size)
        fp.seek(size - tail_size)
        tail = fp.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return
        _, _, _, _, count, cd_size, _, _ = _EOCD.unpack_from(tail, at)
        cd_end = size - tail_size + at
        if count == 0xFFFF or cd_size == 0xFFFFFFFF:
            z64 = at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
            if z64 >= 0 and tail[z64 : z64 + 4] == b"PK\x06\x06":
                fields = _ZIP64_EOCD.unpack_from(tail, z64)
                count, cd_size = fields[7], fields[8]
                cd_end = size - tail_size + z64
        if count > limits.max_entries:
            raise LimitError(
                f"{path}: {count} zip entries exceed the limit of {limits.max_entries}; "
                "raise it with limits.max_entries if the archive is trusted",
                params=["limits.max_entries"],
            )
        if cd_size <= _CD_HEADER.size * limits.max_entries:
            return
        # Big enough to hold too many entries: count the records as zipfile will read them.
        pos = cd_end - cd_size
        if pos < 0:
            return
        fp.seek(pos)
        found = 0
        while pos + _CD_HEADER.size <= cd_end:
            header = fp.read(_CD_HEADER.size)
            if len(header) < _CD_HEADER.size or header[:4] != b"PK\x01\x02":
                return
            fields = _CD_HEADER.unpack_from(header)
            skip = fields[10] + fields[11] + fields[12]  # name, extra field, comment
            found += 1
            if found > limits.max_entries:
                raise LimitError(
                    f"{path}: over {limits.max_entries} zip entries; raise limits.max_entries if "
                    "the archive is trusted",
                    params=["limits.max_entries"],
                )
            fp.seek(skip, os.SEEK_CUR)
            pos += _CD_HEADER.size + skip


def _check_objects(objects: int, limits: Limits, where: str) -> None:
    if objects > limits.max_batch_objects:
        raise LimitError(
            f"{where} holds over {limits.max_batch_objects} objects (fields, list items), "
            "more memory than a batch may take; raise limits.max_batch_objects if the archive "
            "is trusted",
            params=["limits.max_batch_objects"],
        )


#: Doubles above the largest float32 that still round to it (below 2**128 - 2**103).
_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_ROUNDS_DOWN_BELOW = 3.4028235677973366e38


def _float32_edge(text: str) -> float:
    value = float(text)
    if _FLOAT32_MAX < abs(value) < _FLOAT32_ROUNDS_DOWN_BELOW:
        return math.copysign(_FLOAT32_MAX, value)
    return value


def _parse_json_into(data: bytes, batch: InputBatch) -> None:
    try:
        json_format.Parse(data, batch, ignore_unknown_fields=True, max_recursion_depth=100)
    except json_format.ParseError as exc:
        if "Float value too" not in str(exc):
            raise
        # The largest float32 is written "3.4028235e+38" by protobuf's own JSON printers
        # (and Go's), which protobuf's Python parser then refuses as out of range; read it
        # the way those parsers do, as the largest float32.
        batch.Clear()
        values = json.loads(data, parse_float=_float32_edge)
        json_format.ParseDict(values, batch, ignore_unknown_fields=True, max_recursion_depth=100)


def _parse_json_batch(data: bytes, where: str) -> InputBatch:
    batch = InputBatch()
    try:
        _parse_json_into(data, batch)
        # The JSON mapping nests less than the wire format (a Struct's map entries are no
        # messages in JSON): a round trip applies protobuf's own nesting limit, so what
        # is read here can be written as a protobuf archive and read back.
        batch = InputBatch.FromString(batch.SerializeToString())
    except (json_format.ParseError, UnicodeError, ValueError, RecursionError) as exc:
        raise ArchiveError(
            f"{where} is not a readable JSON InputBatch ({str(exc)[:200]}); "
            "the archive is damaged, download it again"
        ) from None
    except (DecodeError, RuntimeError):
        raise ArchiveError(
            f"{where} nests messages deeper than protobuf allows (100 levels, about 32 "
            "levels of metadata); the archive cannot be read"
        ) from None
    return batch


# -- writing ---------------------------------------------------------------------


def encode_batch(serialized_inputs: Iterable[bytes]) -> bytes:
    """Wire bytes of an ``InputBatch`` made of already serialized inputs (field 1, repeated)."""
    parts: list[bytes] = []
    for data in serialized_inputs:
        parts.append(b"\x0a")
        parts.append(_varint(len(data)))
        parts.append(data)
    return b"".join(parts)


class ArchiveWriter:
    """Write an archive the official SDK reader accepts, atomically.

    ``mimetype`` comes first and stored; batches are named
    ``<split>/input-batch-000000_n<count>``. The zip is written under a temporary
    name and renamed into place by :meth:`close`; :meth:`abort` (or an exception
    inside ``with``) removes it, so a failed run leaves nothing behind.

    Example::

        with ArchiveWriter("out.zip", batch_size=256) as writer:
            for record in inputs:
                writer.add(record)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 128,
        flavour: Flavour = "protobuf",
        split: str = "all",
        compress: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if flavour not in _MIMETYPE_FOR:
            raise ValueError(f"unknown flavour {flavour!r}")
        self.path = Path(path)
        self.batch_size = batch_size
        self.flavour: Flavour = flavour
        self.split = split.strip("/")
        self.compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.inputs_written = 0
        self.batches_written = 0
        self._on_batch = on_batch
        # Inputs not yet written: wire bytes (protobuf) or compact JSON objects (json).
        self._pending: list[bytes] = []
        self._closed = False
        if self.path.is_dir():
            raise OutputError(f"{self.path}: is a folder; give a .zip file name")
        self._tmp = temp_sibling(self.path)
        try:
            self._zip = zipfile.ZipFile(self._tmp, "w", allowZip64=True)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot write here ({exc.strerror or exc})") from None
        except BaseException:  # an interrupt before the caller holds the writer
            self._tmp.unlink(missing_ok=True)
            raise
        try:
            self._writestr("mimetype", _MIMETYPE_FOR[flavour], zipfile.ZIP_STORED)
        except BaseException:
            self.abort()
            raise

    def _writestr(self, name: str, data: bytes, compression: int) -> None:
        info = zip_entry_info(name, compression)
        try:
            self._zip.writestr(info, data)
        except OSError as exc:
            raise OutputError(f"{self.path}: write failed ({exc.strerror or exc})") from None

    def add(self, record: Input) -> None:
        """Append one input."""
        if self.flavour == "json":
            from .jsonmap import input_to_json_bytes
            from .unknown import current_unknown_tally

            tally = current_unknown_tally()
            if tally is not None:  # JSON leaves unknown fields out: say so (the CLI warns)
                tally.add(record)
            self._pending.append(input_to_json_bytes(record))
        else:
            self._pending.append(record.SerializeToString(deterministic=True))
        if len(self._pending) >= self.batch_size:
            self._flush()

    def add_json_inputs(self, items: Iterable[bytes]) -> None:
        """Append inputs already written as compact JSON objects (JSON flavour only).

        Each item is what :func:`toolkit.jsonmap.input_to_json_bytes` returns for one
        input; the parallel ``--to json`` conversion encodes them in other processes.
        """
        if self.flavour != "json":
            raise ValueError("add_json_inputs needs a JSON-flavour writer")
        for item in items:
            self._pending.append(item)
            if len(self._pending) >= self.batch_size:
                self._flush()

    def add_json_pieces(self, pieces: Iterable[bytes]) -> None:
        """Append one input given as its compact JSON in pieces (what
        :func:`toolkit.jsonmap.iter_input_json` yields), as an entry of its own written a
        piece at a time: an input holding a huge escaped string never sits in memory
        whole (JSON flavour only). Inputs still pending are written first.
        """
        if self.flavour != "json":
            raise ValueError("add_json_pieces needs a JSON-flavour writer")
        self._flush()
        info = zip_entry_info(self._next_name(1), self.compression)
        try:
            with self._zip.open(info, "w", force_zip64=True) as dst:
                dst.write(b'{"inputs":[')
                for piece in pieces:
                    dst.write(piece)
                dst.write(b"]}")
        except OSError as exc:
            raise OutputError(f"{self.path}: write failed ({exc.strerror or exc})") from None
        self._count_batch(1)

    def add_serialized(self, data: bytes) -> None:
        """Append one input given as its protobuf wire bytes (protobuf flavour)."""
        if self.flavour == "json":
            self.add(Input.FromString(data))
            return
        self._pending.append(data)
        if len(self._pending) >= self.batch_size:
            self._flush()

    def add_many(self, records: Iterable[Input]) -> None:
        """Append every input of an iterable."""
        for record in records:
            self.add(record)

    def add_encoded_batch(self, data: bytes, count: int, *, crc: int | None = None) -> None:
        """Append ``count`` inputs given as the wire bytes of one ``InputBatch``, as one entry.

        The fast path for copying: the bytes are written as they are (not checked), after
        any inputs still pending. ``crc`` is their CRC-32 when it is known already (a
        source entry's, checked as the entry was read: :attr:`BatchEntry.crc`), so that
        it is not computed again. The JSON flavour parses them and adds them one by one.

        Example::

            data = reader.read_entry_bytes(entry)
            writer.add_encoded_batch(data, len(batch.inputs), crc=entry.crc)
        """
        if self.flavour == "json":
            self.add_many(InputBatch.FromString(data).inputs)
            return
        self._flush()
        if not count:
            return
        if crc is None or self.compression != zipfile.ZIP_STORED:
            self._write_batch(data, count)
            return
        info = self._new_info(count, zipfile.ZIP_STORED, crc, len(data), len(data))
        self._put_entry(info, lambda fp: fp.write(data))
        self._count_batch(count)

    def _flush(self) -> None:
        count = len(self._pending)
        if not count:
            return
        if self.flavour == "json":
            # What orjson writes for {"inputs": [...]}: compact, the objects as they are.
            data = b'{"inputs":[' + b",".join(self._pending) + b"]}"
        else:
            data = encode_batch(self._pending)
        self._pending = []
        self._write_batch(data, count)

    def copy_entry(self, reader: ArchiveReader, entry: BatchEntry, count: int) -> None:
        """Append the ``count`` inputs of ``reader``'s batch ``entry`` as one entry, unchanged.

        The fastest copy: the entry's compressed bytes go from file to file as they are
        (by the kernel where it can), with the source's CRC-32, sizes and compression
        method; only the name is the writer's own (``<split>/input-batch-NNNNNN_n<count>``).
        Nothing is decompressed or checked here: read the entry first (``read_batch``)
        to know that it is sound and holds ``count`` inputs. A JSON source or a JSON
        writer gets the inputs parsed and written again instead. Inputs still pending
        are written first, as their own batch.

        Example::

            for entry, batch in reader.iter_batches():
                writer.copy_entry(reader, entry, len(batch.inputs))
        """
        if reader.flavour != "protobuf" or self.flavour != "protobuf":
            batch = reader.read_batch(entry)
            if self.flavour == "json":
                self._flush()
                self.add_many(batch.inputs)
                self._flush()
            else:
                self.add_encoded_batch(batch.SerializeToString(deterministic=True), count)
            return
        self._flush()
        if not count:
            return
        raw = reader.raw_entry(entry)
        info = self._new_info(count, raw.compress_type, raw.crc, raw.file_size, raw.compress_size)
        self._put_entry(info, lambda fp: _copy_bytes(reader, raw, fp))
        self._count_batch(count)

    def _new_info(
        self, count: int, compress_type: int, crc: int, file_size: int, compress_size: int
    ) -> zipfile.ZipInfo:
        info = zip_entry_info(self._next_name(count), compress_type)
        info.CRC = crc
        info.file_size = file_size
        info.compress_size = compress_size
        return info

    def _put_entry(self, info: zipfile.ZipInfo, write_data: Callable[[IO[bytes]], object]) -> None:
        """Write an entry whose CRC and sizes are known: its local header (final at once,
        no data descriptor), its data (``write_data``), then its central directory record.

        What zipfile's ``writestr`` writes, less the CRC computation and the header
        rewrite: the same zip64 rule for the local header (an extra field when the size
        comes near ``zipfile.ZIP64_LIMIT``); the directory's zip64 fields (sizes, offsets
        past the limit) are zipfile's, written on close.
        """
        zf = self._zip
        fp = zf.fp
        if fp is None or zf._writing:  # type: ignore[attr-defined]
            raise ValueError(f"{self.path}: the zip is not open for writing")
        limit = zipfile.ZIP64_LIMIT
        zip64 = info.file_size * 1.05 > limit or info.compress_size > limit
        try:
            fp.seek(zf.start_dir)
            info.header_offset = fp.tell()
            fp.write(info.FileHeader(zip64))
            write_data(fp)
            end = fp.tell()
        except OSError as exc:
            raise OutputError(f"{self.path}: write failed ({exc.strerror or exc})") from None
        zf._didModify = True  # type: ignore[attr-defined]
        zf.filelist.append(info)
        zf.NameToInfo[info.filename] = info
        zf.start_dir = end

    def _next_name(self, count: int) -> str:
        prefix = f"{self.split}/" if self.split else ""
        return f"{prefix}input-batch-{self.batches_written:06d}_n{count}"

    def _write_batch(self, data: bytes, count: int) -> None:
        self._writestr(self._next_name(count), data, self.compression)
        self._count_batch(count)

    def _count_batch(self, count: int) -> None:
        self.batches_written += 1
        self.inputs_written += count
        if self._on_batch is not None:
            self._on_batch(count)

    def close(self) -> None:
        """Flush the last batch and move the finished archive into place."""
        if self._closed:
            return
        try:
            self._flush()
            self._zip.close()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        try:
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot write here ({exc.strerror or exc})") from None
        except BaseException:  # an interrupt at the rename: no finished copy left behind
            self._tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        """Discard everything written; the destination is left as it was."""
        if self._closed:
            return
        self._closed = True
        discard_zip(self._zip)
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _copy_bytes(reader: ArchiveReader, raw: RawEntry, out: IO[bytes]) -> None:
    """Append ``raw``'s compressed bytes to ``out`` (zipfile's file, at its end).

    The kernel copies them where it can (``copy_file_range``, else ``sendfile``), so
    they never pass through Python; the rest is read and written 1 MiB at a time. Read
    errors are the source's (``ArchiveError``); write errors raise ``OSError``.
    """
    size = raw.compress_size
    done = 0
    if size and _KERNEL_COPY:
        out.flush()
        start = out.tell()
        done = _kernel_copy(reader._fileno(), out.fileno(), raw.offset, start, size)
        out.seek(start + done)
    while done < size:
        try:
            chunk = reader._read_at(raw.offset + done, min(size - done, _COPY_CHUNK))
        except OSError as exc:
            raise ArchiveError(
                f"{reader.path}: entry {raw.name!r} is unreadable ({exc.strerror or exc})"
            ) from None
        if not chunk:
            raise ArchiveError(
                f"{reader.path}: entry {raw.name!r} runs past the end of the file; the "
                "archive is truncated, download it again"
            )
        out.write(chunk)
        done += len(chunk)


#: Copy between files inside the kernel (Linux; ``sendfile`` on other systems fails
#: and the bytes are copied through Python instead).
_KERNEL_COPY = hasattr(os, "copy_file_range") or hasattr(os, "sendfile")
#: Errors a kernel copy reports that copying through Python would meet too.
_WRITE_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _kernel_copy(src: int, dst: int, src_offset: int, dst_offset: int, size: int) -> int:
    """Copy ``size`` bytes between two files by the kernel; returns how many it copied
    (fewer when this file system, or this system, does not copy that way)."""
    done = 0
    if hasattr(os, "copy_file_range"):
        try:
            while done < size:
                n = os.copy_file_range(src, dst, size - done, src_offset + done, dst_offset + done)
                if n <= 0:
                    break
                done += n
        except OSError as exc:  # EXDEV (another file system), EINVAL, ENOSYS, ...
            if exc.errno in _WRITE_FULL:
                raise
    if done < size and hasattr(os, "sendfile"):
        try:
            os.lseek(dst, dst_offset + done, os.SEEK_SET)
            while done < size:
                n = os.sendfile(dst, src, src_offset + done, size - done)
                if n <= 0:
                    break
                done += n
        except OSError as exc:
            if exc.errno in _WRITE_FULL:
                raise
    return done


def discard_zip(zf: zipfile.ZipFile) -> None:
    """Close a zip being written whose file is going to be deleted, whatever state an
    interruption left it in.

    A signal that lands while zipfile writes an entry can leave its writing handle open:
    ``close()`` then refuses, and zipfile would try again when the object is collected,
    printing "Exception ignored ... ValueError" on the way out. Here the file is simply
    let go of, and zipfile has nothing left to close.
    """
    try:
        zf.close()
    except (OSError, ValueError):
        zf._writing = False  # type: ignore[attr-defined]
        fp, zf.fp = zf.fp, None
        if fp is not None:
            with contextlib.suppress(OSError):
                fp.close()


def write_archive(
    path: str | os.PathLike[str],
    inputs: Iterable[Input],
    *,
    batch_size: int = 128,
    flavour: Flavour = "protobuf",
    split: str = "all",
    compress: bool = False,
) -> int:
    """Write ``inputs`` to a new archive at ``path`` and return how many were written.

    Example::

        n = write_archive("subset.zip", (r for r in reader if r.id.startswith("a")))
    """
    with ArchiveWriter(
        path, batch_size=batch_size, flavour=flavour, split=split, compress=compress
    ) as writer:
        writer.add_many(inputs)
    return writer.inputs_written
