"""Helpers for the merge / remove / filter / split tests."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from toolkit.archive import ArchiveReader
from toolkit.messages import Input


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hashes(paths) -> dict[str, str]:
    return {str(p): sha256(p) for p in paths}


def read_inputs(path: Path) -> list[Input]:
    with ArchiveReader(path, allow_empty=True) as reader:
        return list(reader.iter_inputs())


def read_ids(path: Path) -> list[str]:
    return [r.id for r in read_inputs(path)]


def wire(record: Input) -> bytes:
    return record.SerializeToString(deterministic=True)


def entry_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted write would leave (``.NAME.tmp-...``)."""
    return sorted(p.name for p in Path(folder).iterdir() if ".tmp-" in p.name)


def sdk_ids(path: Path) -> list[str]:
    """Ids as the official clarifai SDK reader sees them (also checks its length)."""
    from clarifai.datasets.export.inputs_annotations import DatasetExportReader

    reader = DatasetExportReader(session=None, local_archive_path=str(path))
    try:
        ids = [record.id for record in reader]
        assert len(reader) == len(ids)
        return ids
    finally:
        reader.close()


def grpc_inputs(path: Path) -> list:
    """The inputs parsed with clarifai-grpc's own classes."""
    from clarifai_grpc.grpc.api import resources_pb2

    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name == "mimetype":
                continue
            out.extend(resources_pb2.InputBatch.FromString(zf.read(name)).inputs)
    return out


def with_unknown_field(record: Input, number: int = 999, value: int = 7) -> Input:
    """The input plus a varint field the schema does not know."""
    tag = (number << 3) | 0
    extra = bytearray()
    for v in (tag, value):
        while v > 0x7F:
            extra.append((v & 0x7F) | 0x80)
            v >>= 7
        extra.append(v)
    return Input.FromString(record.SerializeToString() + bytes(extra))
