"""``--to sdk``: the zip Clarifai's SDK ``Dataset().export(save_path, local_archive_path)`` makes.

Layout: ``<split>/inputs/<name>.<ext>`` (the media) and ``<split>/annotations/<name>.json``,
where ``<name>`` is the input id made safe for a file name (the same for both files). An
annotation file is the SDK's list: ``{"metadata": {...}}`` first (when the input has
metadata), then the input's regions, then its concepts, each as protobuf's
``MessageToDict`` writes them (lowerCamelCase keys such as ``regionInfo``/``boundingBox``,
missing box sides filled with 0), written with ``json.dumps`` as the SDK does.

Unlike the SDK: media keep their bytes and real extension (``png=True`` re-encodes images
as PNG, as the SDK does, which Clarifai's data-utils COCO conversion requires); inputs whose
media is only a URL are fetched too; inputs without media or whose download failed are
reported, not silently left out; annotations are written for every labelled input; and the
zip is written anew each time instead of being appended to.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any, ClassVar, cast

import orjson
from google.protobuf.descriptor import Descriptor

from .._atomic import temp_sibling
from ..archive import discard_zip, zip_entry_info
from ..errors import OutputError, SchemaError, params_of, quote_path
from ..jsonmap import (
    _JSON_NAMES,
    _LONG_MARK,
    LONG_STRING,
    _pull_long_strings,
    _quiet_floats,
    _struct,
    current_nulls,
)
from ..media import FileNamer, MediaSink
from ..messages import Concept, Input, Region
from ._base import BatchWork, ConvertJob, OutputKind, SourceBatch
from ._counts import ConvertCounts
from ._options import media_sink_extras

__all__ = ["SdkConverter", "annotation_items"]


def _plain(obj: Any) -> Any:
    return orjson.loads(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY))


def annotation_items(record: Input) -> list[dict[str, Any]] | None:
    """The JSON items the SDK writes to ``annotations/<id>.json``, or None when it writes
    no file (no metadata, regions or concepts).

    Example::

        items = annotation_items(record)   # [{"metadata": {...}}, {"id": ..., "regionInfo": ...}]
    """
    data = record.data
    metadata = _struct(data.metadata) if data.HasField("metadata") else {}
    regions = data.regions
    concepts = data.concepts
    if not (metadata or len(regions) or len(concepts)):
        return None
    # types-protobuf types DESCRIPTOR as this Descriptor or upb's: the same class at runtime
    region_conv = _JSON_NAMES.converter(cast(Descriptor, Region.DESCRIPTOR))
    concept_conv = _JSON_NAMES.converter(cast(Descriptor, Concept.DESCRIPTOR))
    with _quiet_floats():
        labels = [region_conv(r) for r in regions] + [concept_conv(c) for c in concepts]
    # numpy floats to plain ones; the metadata is plain already (and may be huge: it
    # is not copied through JSON).
    items: list[dict[str, Any]] = _plain(labels)
    if metadata:
        items.insert(0, {"metadata": metadata})
    for item in items:
        box = item.get("regionInfo", {}).get("boundingBox")
        if box is not None:
            for key in ("topRow", "leftCol", "bottomRow", "rightCol"):
                box.setdefault(key, 0)
    return items


class SdkConverter:
    """The SDK export layout in a zip; see the module docstring.

    Example::

        converter = SdkConverter(ConvertJob(output=Path("export.zip"), sources=(src,)))
    """

    name: ClassVar[str] = "sdk"
    summary: ClassVar[str] = "the zip layout of the Clarifai SDK's Dataset.export (offline)"
    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = True
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = True
    reads_raw: bool = False
    batch_work: BatchWork | None = None
    batch_scratch: int = 0

    def __init__(self, job: ConvertJob) -> None:
        self.job = job
        self.dest = job.output_path
        self.split = job.options.split
        self._tmp = temp_sibling(self.dest)
        self._sink: MediaSink | None = None
        self._media_dir: Path | None = None
        self._submitted: list[tuple[str, str]] = []
        self._annotation_files = 0
        self._inputs = 0
        try:
            self._zip = zipfile.ZipFile(self._tmp, "w", allowZip64=True)
        except OSError as exc:
            raise OutputError(f"{self.dest}: cannot write here ({exc.strerror or exc})") from None
        try:
            if job.options.media != "none":
                self._media_dir = media_folder(self.dest, job.options.media == "download")
                self._sink = MediaSink(
                    self._media_dir,
                    mode="download" if job.options.media == "download" else "embedded",
                    jobs=job.options.jobs,
                    timeout=job.options.timeout,
                    retries=job.options.retries,
                    pat=job.options.pat,
                    png=job.options.png,
                    on_done=job.media_progress,
                    limits=job.options.limits,
                    **media_sink_extras(),
                )
        except BaseException:
            self.abort()
            raise
        self._namer = self._sink.namer if self._sink is not None else FileNamer()

    def _writestr(self, name: str, data: bytes) -> None:
        info = zip_entry_info(name)
        try:
            self._zip.writestr(info, data)
        except OSError as exc:
            raise OutputError(f"{self.dest}: write failed ({exc.strerror or exc})") from None

    def write_batch(self, batch: SourceBatch) -> None:
        for record in batch.batch.inputs:
            self._inputs += 1
            stem = self._namer.stem_for(record.id)
            if self._sink is not None:
                name = self._sink.submit(record)
                if name is not None:
                    self._submitted.append((record.id, name))
            nulled = current_nulls()
            before = nulled.numbers if nulled is not None else 0
            try:
                items = annotation_items(record)
            except ValueError as exc:
                raise SchemaError(
                    f"{quote_path(batch.source)}: input {record.id!r}: cannot be written as "
                    f"JSON ({exc})",
                    params=params_of(exc),
                ) from None
            if nulled is not None:
                nulled.record(record.id, before)
            if items is not None:
                self._write_items(f"{self.split}/annotations/{stem}.json", items)
                self._annotation_files += 1

    def _write_items(self, name: str, items: list[dict[str, Any]]) -> None:
        """Write an annotation file as ``json.dumps`` does (the SDK's own bytes); strings
        longer than LONG_STRING are escaped and written a piece at a time, so a huge
        escaped string never sits in memory whole."""
        longs: list[str] = []
        pulled = _pull_long_strings(items, longs)
        if not longs:
            self._writestr(name, json.dumps(items).encode())
            return
        mark = json.dumps(_LONG_MARK)
        parts = json.dumps(pulled).split(mark)
        assert len(parts) == len(longs) + 1
        try:
            with self._zip.open(zip_entry_info(name), "w", force_zip64=True) as dst:
                for part, text in zip(parts[:-1], longs, strict=True):
                    dst.write(part.encode() + b'"')
                    for start in range(0, len(text), LONG_STRING):
                        dst.write(json.dumps(text[start : start + LONG_STRING])[1:-1].encode())
                    dst.write(b'"')
                dst.write(parts[-1].encode())
        except OSError as exc:
            raise OutputError(f"{self.dest}: write failed ({exc.strerror or exc})") from None

    def finish(self) -> ConvertCounts:
        media = None
        written = 0
        if self._sink is not None and self._media_dir is not None:
            media = self._sink.close()
            renamed = media.renamed
            for input_id, name in self._submitted:
                if input_id in media.failed:
                    continue
                final = renamed.get(input_id, name)
                path = self._media_dir / final
                if not path.is_file():
                    continue
                info = zip_entry_info(f"{self.split}/inputs/{final}")
                try:
                    with open(path, "rb") as src, self._zip.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                except OSError as exc:
                    raise OutputError(
                        f"{self.dest}: write failed ({exc.strerror or exc})"
                    ) from None
                written += 1
        try:
            self._zip.close()
        except OSError as exc:
            raise OutputError(f"{self.dest}: write failed ({exc.strerror or exc})") from None
        return ConvertCounts(
            written=self._inputs,
            annotation_files=self._annotation_files,
            media_files=written,
            media=media,
        )

    def commit(self) -> None:
        try:
            os.replace(self._tmp, self.dest)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.dest}: cannot write here ({exc.strerror or exc})") from None
        if self._media_dir is not None:
            shutil.rmtree(self._media_dir, ignore_errors=True)

    def abort(self) -> None:
        if self._sink is not None:
            with contextlib.suppress(Exception):
                self._sink.abort()
        discard_zip(self._zip)
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()
        # Downloads finished so far stay for the next run; embedded copies are cheap to redo.
        if self._media_dir is not None and self.job.options.media != "download":
            shutil.rmtree(self._media_dir, ignore_errors=True)


def media_folder(dest: Path, download: bool) -> Path:
    """Where the media of an sdk zip wait before going into it.

    Downloads go to ``.<name>.media`` beside the zip, kept when a run fails so that the
    next run fetches only what is missing; embedded bytes go to a fresh temporary folder.
    """
    if download:
        return dest.with_name(f".{dest.name}.media")
    tmp = temp_sibling(dest)
    return tmp.with_name(tmp.name + ".media")
