"""The files of an index folder: vectors.npy, ids.json, index.faiss and the index.json sidecar.

``vectors.npy`` is written as a stream: a fixed-size header is reserved first and
rewritten with the final row count when the last row is in, so memory does not
grow with the collection and the result is a plain ``.npy`` that
``np.load(..., mmap_mode="r")`` maps.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from ..errors import IndexMismatchError, OutputError, quote_path

VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.json"
INDEX_FILE = "index.faiss"
SIDECAR_FILE = "index.json"
#: The inverted lists of an index built from shards (OnDiskInvertedLists, memory-mapped).
IVFDATA_FILE = "index.ivfdata"
FORMAT_NAME = "clarifai-archive-index"
FORMAT_VERSION = 1

#: Bytes reserved for the .npy header (magic, version, length, dict, padding).
HEADER_BYTES = 128
_MAGIC = b"\x93NUMPY\x01\x00"


def npy_header(rows: int, dim: int) -> bytes:
    """A version-1.0 ``.npy`` header for a C-ordered float32 ``(rows, dim)`` array."""
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    room = HEADER_BYTES - len(_MAGIC) - 2
    if len(text) + 1 > room:  # pragma: no cover - needs more than 10**40 rows
        raise ValueError("shape too large for the reserved .npy header")
    body = text.ljust(room - 1).encode("latin1") + b"\n"
    return _MAGIC + struct.pack("<H", len(body)) + body


class VectorWriter:
    """Append float32 rows to a ``.npy`` file whose row count is fixed at :meth:`finish`."""

    def __init__(self, path: Path, dim: int | None = None, *, digest: bool = True) -> None:
        self.path = path
        self.dim = dim
        self.rows = 0
        # Without ``digest`` the caller hashes the finished file (see :func:`sha256_file`),
        # off the path that writes.
        self._digest = hashlib.sha256() if digest else None
        try:
            self._file: BinaryIO = open(path, "w+b")  # noqa: SIM115 - closed in finish/close
        except OSError as exc:
            raise OutputError(f"{path}: cannot write here ({exc.strerror or exc})") from None
        self._file.write(b"\0" * HEADER_BYTES)

    def append(self, rows: np.ndarray) -> None:
        """Append a ``(m, dim)`` float32 block."""
        if rows.ndim != 2:
            raise ValueError("rows must be a 2-d array")
        if self.dim is None:
            self.dim = int(rows.shape[1])
        if rows.shape[1] != self.dim:
            raise ValueError(f"rows have {rows.shape[1]} columns, expected {self.dim}")
        if not rows.shape[0]:
            return
        # Written and hashed from the array's own memory (no copy into a bytes object).
        self._write(np.ascontiguousarray(rows, dtype="<f4").data.cast("B"))
        self.rows += int(rows.shape[0])

    def copy_rows_from(self, source: Path, rows: int) -> None:
        """Append the first ``rows`` rows of another vectors file, byte for byte."""
        assert self.dim is not None
        length = rows * self.dim * 4
        self._file.flush()
        with open(source, "rb") as src:
            src.seek(HEADER_BYTES)
            copied = 0
            while copied < length:
                chunk = src.read(min(64 << 20, length - copied))
                if not chunk:
                    raise IndexMismatchError(f"{source}: shorter than its header says")
                self._write(chunk)
                copied += len(chunk)
        self.rows += rows

    def read_row(self, row: int) -> np.ndarray:
        """Read back one row already written (for duplicate-id checks)."""
        assert self.dim is not None
        self._file.flush()
        size = self.dim * 4
        data = os.pread(self._file.fileno(), size, HEADER_BYTES + row * size)
        return np.frombuffer(data, dtype="<f4")

    def _write(self, data: bytes | memoryview) -> None:
        if self._digest is not None:
            self._digest.update(data)
        try:
            self._file.write(data)
        except OSError as exc:
            raise OutputError(f"{self.path}: write failed ({exc.strerror or exc})") from None

    @property
    def rows_sha256(self) -> str | None:
        """Hex SHA-256 of the row bytes written so far (the file less its header), or None
        when the writer was made without ``digest``."""
        return self._digest.hexdigest() if self._digest is not None else None

    def finish(self) -> None:
        """Write the final header and close the file."""
        if self.dim is None:
            self.dim = 0
        try:
            self._file.seek(0)
            self._file.write(npy_header(self.rows, self.dim))
            self._file.close()
        except OSError as exc:
            raise OutputError(f"{self.path}: write failed ({exc.strerror or exc})") from None

    def close(self) -> None:
        """Close without finishing (the caller removes the file)."""
        self._file.close()


def open_vectors(path: Path) -> np.ndarray:
    """Memory-map a vectors file read-only, checking it is a float32 matrix."""
    try:
        array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise IndexMismatchError(f"{path}: missing; rebuild the index") from None
    except Exception as exc:  # numpy raises assorted errors (TokenError...) on a bad header
        raise IndexMismatchError(
            f"{path}: not a readable .npy file ({exc}); rebuild the index"
        ) from None
    if array.dtype != np.float32 or array.ndim != 2 or not array.flags.c_contiguous:
        raise IndexMismatchError(
            f"{path}: expected a C-ordered float32 (n, d) array, found {array.dtype} "
            f"{array.shape}; rebuild the index"
        )
    return array


def write_ids(path: Path, ids: list[str]) -> None:
    """Write the id list (row order) as one JSON array."""
    try:
        path.write_bytes(orjson.dumps(ids))
    except OSError as exc:
        raise OutputError(f"{path}: write failed ({exc.strerror or exc})") from None


def read_ids(path: Path) -> list[str]:
    """Read the id list, checking it is a list of unique strings."""
    try:
        ids = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise IndexMismatchError(f"{path}: missing; rebuild the index") from None
    except (orjson.JSONDecodeError, OSError) as exc:
        raise IndexMismatchError(f"{path}: not readable JSON ({exc}); rebuild the index") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise IndexMismatchError(f"{path}: expected a JSON list of input ids; rebuild the index")
    return ids


def write_sidecar(path: Path, sidecar: dict[str, Any]) -> None:
    """Write ``index.json`` (indented, keys in a stable order)."""
    try:
        path.write_bytes(orjson.dumps(sidecar, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise OutputError(f"{path}: write failed ({exc.strerror or exc})") from None


def read_sidecar(folder: Path) -> dict[str, Any]:
    """Read and shape-check ``index.json`` of an index folder."""
    if not folder.exists():
        raise IndexMismatchError(
            f"{folder}: no such index folder; build one with 'clarifai-archive index build'"
        )
    if not folder.is_dir():
        raise IndexMismatchError(
            f"{folder}: not an index folder (it is a file); give the folder "
            "'clarifai-archive index build' wrote"
        )
    path = folder / SIDECAR_FILE
    try:
        sidecar = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise IndexMismatchError(
            f"{folder}: no {SIDECAR_FILE}, so this is not an index folder; build one with "
            "'clarifai-archive index build'"
        ) from None
    except (orjson.JSONDecodeError, OSError) as exc:
        raise IndexMismatchError(f"{path}: not readable JSON ({exc}); rebuild the index") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT_NAME:
        raise IndexMismatchError(f"{path}: not a clarifai-archive index sidecar")
    version = sidecar.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format version {version!r}, this toolkit reads version "
            f"{FORMAT_VERSION}; rebuild the index with this toolkit"
        )
    problem = check_sidecar(sidecar)
    if problem is not None:
        raise IndexMismatchError(
            f"{quote_path(path)}: {problem}; the sidecar was damaged or edited, rebuild the index"
        )
    return sidecar


# -- the sidecar's schema ------------------------------------------------------------------
#
# Every field the toolkit reads, with its JSON type; fields it does not know are allowed
# (a newer toolkit may add some). A spec is a type name, a dict of fields (a JSON object,
# fields marked required with a trailing "!"), ("list", spec), ("map", spec) (an object
# whose values all follow spec), or ("or", spec, ...).

_Spec = Any

_FILE_RECORD: _Spec = {"bytes!": "count", "sha256": "hex", "rows_sha256": "hex", "crc32": "count"}
_SOURCE: _Spec = (
    "or",
    # An archive.
    {
        "path!": "str",
        "sha256!": "hex",
        "bytes": "count",
        "flavour": "str",
        "inputs": "count",
        "indexed": "count",
    },
    # Arrays handed to build_index.
    {"path!": "null", "kind": "str", "inputs": "count"},
)
SIDECAR_SCHEMA: _Spec = {
    "format!": "str",
    "format_version!": "int",
    "toolkit_version": "str",
    "faiss_version": "str",
    "created_at": "str",
    "modified_at": "str",
    "dimension!": "count",
    "count!": "count",
    "metric!": "str",
    "normalized": "bool",
    "score": "str",
    "kind!": "str",
    "requested_kind": "str",
    "choice": "str",
    "params": {
        "factory": "str",
        "nlist": "positive",
        "pq_m": "positive",
        "pq_bits": "positive",
        "hnsw_m": "positive",
        "ef_construction": "positive",
        "rerank_from": "str",
    },
    # Only the settings a kind uses are recorded, each at least 1.
    "search_params": {"nprobe": "positive", "rerank": "positive", "ef_search": "positive"},
    "estimated_index_bytes": ("or", "count", "null"),
    "memory_budget": ("or", "count", "null"),
    "embedding": "count",
    "counts": ("map", "count"),
    "tuning": {"target_recall_at_10": "number", "tried": ("list", "any")},
    "seed": "int",
    "timings_s": ("map", "number"),
    "threads": "positive",
    "sources": ("list", _SOURCE),
    "history": ("list", ("map", "any")),
    "files": ("map", _FILE_RECORD),
}
_HEX = frozenset("0123456789abcdef")


def _type_problem(value: Any, spec: _Spec, where: str) -> str | None:
    """Why ``value`` (at ``where``) does not follow ``spec``, or None when it does."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where or 'the sidecar'} should be a JSON object, not {_kind(value)}"
        for key, sub in spec.items():
            name = key.rstrip("!")
            if name not in value:
                if key.endswith("!"):
                    return f"{_join(where, name)} is missing"
                continue
            problem = _type_problem(value[name], sub, _join(where, name))
            if problem is not None:
                return problem
        return None
    if isinstance(spec, tuple):
        kind = spec[0]
        if kind == "or":
            problems = [_type_problem(value, sub, where) for sub in spec[1:]]
            return None if None in problems else problems[0]
        if kind == "list":
            if not isinstance(value, list):
                return f"{where} should be a JSON list, not {_kind(value)}"
            for n, item in enumerate(value):
                problem = _type_problem(item, spec[1], f"{where}[{n}]")
                if problem is not None:
                    return problem
            return None
        if not isinstance(value, dict):  # "map"
            return f"{where} should be a JSON object, not {_kind(value)}"
        for key, item in value.items():
            problem = _type_problem(item, spec[1], _join(where, key))
            if problem is not None:
                return problem
        return None
    return _scalar_problem(value, spec, where)


def _scalar_problem(value: Any, spec: str, where: str) -> str | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if spec == "any":
        ok = True
    elif spec == "str":
        ok = isinstance(value, str)
    elif spec == "hex":
        ok = isinstance(value, str) and len(value) == 64 and set(value) <= _HEX
        if not ok:
            return f"{where} should be a SHA-256 in hex, not {_kind(value)}"
    elif spec == "bool":
        ok = isinstance(value, bool)
    elif spec == "null":
        ok = value is None
    elif spec == "int":
        ok = is_int
    elif spec == "count":
        ok = is_int and value >= 0
        if is_int and not ok:
            return f"{where} is {value}; it should be 0 or more"
    elif spec == "positive":
        ok = is_int and value >= 1
        if is_int and not ok:
            return f"{where} is {value}; it should be at least 1"
    elif spec == "number":
        ok = (is_int or isinstance(value, float)) and value - value == 0
    else:  # pragma: no cover - a typo in the schema
        raise AssertionError(spec)
    if ok:
        return None
    return f"{where} should be {_EXPECTED.get(spec, spec)}, not {_kind(value)}"


_EXPECTED = {
    "str": "a string",
    "bool": "true or false",
    "null": "null",
    "int": "an integer",
    "count": "an integer",
    "positive": "an integer",
    "number": "a finite number",
}


def _join(where: str, key: str) -> str:
    if not where:
        return key
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "..."
        return f"the string {text!r}"
    return "a JSON list" if isinstance(value, list) else "a JSON object"


def check_sidecar(sidecar: Any) -> str | None:
    """Why ``sidecar`` (the parsed ``index.json``) does not follow
    :data:`SIDECAR_SCHEMA`, naming the field, or None when it does.

    Example::

        problem = check_sidecar({"format": "clarifai-archive-index", "files": []})
        # "format_version is missing"
    """
    return _type_problem(sidecar, SIDECAR_SCHEMA, "")


def sha256_file(path: Path, *, skip: int = 0, stop: threading.Event | None = None) -> str:
    """Hex SHA-256 of a file (less its first ``skip`` bytes), read in chunks. Run in a
    thread, it gives up (returning "") once ``stop`` is set."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        stream.seek(skip)
        while chunk := stream.read(8 << 20):
            if stop is not None and stop.is_set():
                return ""
            digest.update(chunk)
    return digest.hexdigest()


def crc32_file(path: Path) -> int:
    """CRC-32 of a file, read in chunks (several GB a second)."""
    crc = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(8 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def file_record(path: Path, sha256: str | None = None) -> dict[str, Any]:
    """Size and checksum of one index file, for the sidecar.

    For ``vectors.npy`` the checksum covers the rows only (the header is rewritten in
    place), and a caller that hashed the rows while writing passes it in.
    ``index.faiss`` also gets a CRC-32, checked on every load before FAISS parses the
    file (its reader trusts the sizes inside; a SHA-256 is checked with ``verify``).
    """
    if path.name == VECTORS_FILE:
        digest = sha256 or sha256_file(path, skip=HEADER_BYTES)
        return {"bytes": path.stat().st_size, "rows_sha256": digest}
    if path.name == INDEX_FILE and sha256 is None:
        # Both checksums read the file: the CRC-32 in a thread meanwhile (zlib and
        # hashlib let go of the interpreter's lock).
        with ThreadPoolExecutor(max_workers=1) as pool:
            crc = pool.submit(crc32_file, path)
            digest = sha256_file(path)
        return {"bytes": path.stat().st_size, "sha256": digest, "crc32": crc.result()}
    record = {"bytes": path.stat().st_size, "sha256": sha256 or sha256_file(path)}
    if path.name == INDEX_FILE:
        record["crc32"] = crc32_file(path)
    return record
