"""Convert archives to Clarifai-Data-JSON, JSON Lines, COCO, protobuf and the SDK's layout.

Every format is a :class:`Converter` in :data:`FORMATS`; :func:`convert_archives` reads
the sources batch by batch (memory does not grow with them) and feeds the chosen one.

Example::

    from toolkit.convert import convert_archives

    report = convert_archives(["clarifai-data-protobuf.zip"], "coco", to="coco",
                              media="embedded")
    print(report.images, report.annotations)
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypedDict

if TYPE_CHECKING:
    from typing_extensions import Unpack

import orjson

from .._atomic import atomic_file
from .._outputs import check_outputs
from ..archive import ArchiveReader
from ..batches import iter_batches, refuse_repeated_ids, require_inputs
from ..errors import MediaError, OutputError, param
from ..jsonmap import BadNumbers, bad_numbers_as_null
from ..limits import DEFAULT_LIMITS, Limits
from ..media import MediaReport
from ..unknown import UnknownFieldTally
from ._base import (
    Converter,
    ConvertJob,
    MediaChoice,
    OutputKind,
    SourceBatch,
)
from ._counts import ConvertCounts
from ._options import MEDIA_CHOICES, ConvertOptions, with_settings
from ._parallel import auto_workers
from .clarifai_json import ClarifaiJsonConverter
from .coco import OUTPUT_NAMES as _COCO_NAMES
from .coco import SPLIT_FILE as _COCO_SPLIT_FILE
from .coco import CocoConverter, rle_encode
from .jsonl import JsonLinesConverter
from .parquet import ParquetConverter
from .protobuf import ProtobufConverter
from .sdk import SdkConverter, annotation_items
from .voc import VocConverter
from .yolo import TASKS, YoloConverter

__all__ = [
    "FORMATS",
    "MEDIA_CHOICES",
    "TASKS",
    "ConvertCounts",
    "ConvertJob",
    "ConvertOptions",
    "ConvertReport",
    "ConvertSettings",
    "Converter",
    "MediaChoice",
    "OutputKind",
    "SourceBatch",
    "annotation_items",
    "convert_archives",
    "count_batches",
    "rle_encode",
]

log = logging.getLogger(__name__)

#: The output formats by their name (``to=``).
FORMATS: dict[str, type[Converter]] = {
    "json": ClarifaiJsonConverter,
    "jsonl": JsonLinesConverter,
    "coco": CocoConverter,
    "protobuf": ProtobufConverter,
    "sdk": SdkConverter,
    "parquet": ParquetConverter,
    "yolo": YoloConverter,
    "voc": VocConverter,
}
#: Names a folder output may already hold and still be replaced without ``force``.
_REPLACEABLE = (
    _COCO_NAMES
    | {"report.json", "annotations"}
    | set(YoloConverter.generated)
    | set(VocConverter.generated)
    | {"images", "JPEGImages"}
)
_PARQUET_PART = re.compile(r"^part-\d{5}\.parquet$")
_MAX_LISTED = 10


@dataclass(frozen=True)
class ConvertReport:
    """What a conversion did. Counts that do not apply to a format stay 0 or empty.

    Example::

        report = convert_archives([src], "out.jsonl", to="jsonl")
        print(report.inputs, report.written)
    """

    #: The ``--to`` format.
    format: str
    #: The output (a path, or ``-`` for a stream).
    output: str
    sources: tuple[str, ...]
    #: Inputs read from the sources, and batch entries.
    inputs: int = 0
    batches: int = 0
    #: Records written: inputs (json, jsonl, protobuf, sdk) or images (coco, yolo, voc).
    written: int = 0
    #: coco, yolo, voc: images, annotations (label rows, objects) and categories (classes).
    images: int = 0
    annotations: int = 0
    categories: int = 0
    #: coco, yolo, voc: inputs not exported, by type (``text``, ``audio``, ``video`` ...).
    skipped_inputs: Mapping[str, int] = field(default_factory=dict)
    #: coco, yolo, voc: regions without a positive concept, and regions without a usable shape.
    regions_without_concept: int = 0
    regions_without_shape: int = 0
    #: coco, voc: images (or video frames) left out because their size is unknown.
    images_without_size: tuple[str, ...] = ()
    #: sdk: annotation files and media files in the zip.
    annotation_files: int = 0
    media_files: int = 0
    #: Inputs carrying fields the schema does not know (newer than the pinned Clarifai;
    #: json, jsonl and sdk leave them out), the first few of their ids, and where the
    #: fields are (``"Data field 99"``, sorted).
    unknown_field_inputs: int = 0
    unknown_field_examples: tuple[str, ...] = ()
    unknown_fields: tuple[str, ...] = ()
    #: parquet: Parquet files written.
    files: int = 0
    #: What happened to the media, when asked for (None with ``media="none"``).
    media: MediaReport | None = None
    #: NaN and infinite metadata numbers: ``error`` (refused) or ``null`` (written as
    #: null); with ``null``, how many were, the inputs that held them, and their ids
    #: (the first 1000).
    bad_numbers: str = "error"
    nulled_numbers: int = 0
    nulled_number_inputs: int = 0
    nulled_number_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no media failed."""
        return self.media is None or not self.media.failed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``--report FILE`` writes)."""
        out = dataclasses.asdict(self)
        out["skipped_inputs"] = dict(self.skipped_inputs)
        return out


def count_batches(
    sources: Sequence[str | os.PathLike[str]], *, limits: Limits = DEFAULT_LIMITS
) -> int:
    """How many batch entries the sources hold (for a progress bar), from their directories.

    Example::

        total = count_batches(["a.zip", "b.zip"])
    """
    total = 0
    for source in sources:
        with ArchiveReader(source, limits=limits, allow_empty=True) as reader:
            total += len(reader.entries)
    return total


def _check_output(
    fmt: type[Converter],
    output: Path,
    sources: Sequence[Path],
    force: bool,
    report_path: Path | None = None,
) -> None:
    # An existing output is the caller's to refuse (the command line asks for --force);
    # what may never happen is writing over a source, here or through report_path.
    check_outputs(
        {"output": output, "report_path": report_path},
        sources,
        existing_ok={"output", "report_path"},
    )
    to = param("to", fmt.name)
    if fmt.output_kind == "file":
        if output.is_dir():
            raise OutputError(f"{output}: is a folder; give a file name for {to}", params=[to])
        return
    if output.exists() and not output.is_dir():
        raise OutputError(f"{output}: is a file; {to} writes a folder, give its name", params=[to])
    if output.is_dir() and not force:
        try:
            names = sorted(os.listdir(output))
        except OSError as exc:
            raise OutputError(f"{output}: cannot read it ({exc.strerror or exc})") from None
        foreign = [
            n
            for n in names
            if n not in _REPLACEABLE
            and not n.startswith(".")
            and not _PARQUET_PART.match(n)
            and not _COCO_SPLIT_FILE.match(n)
        ]
        if foreign:
            shown = ", ".join(repr(n) for n in foreign[:3])
            force_hint = param("force")
            raise OutputError(
                f"{output}: holds files a conversion did not write ({shown}); it would be "
                f"replaced as a whole, so choose a new or empty folder, or pass {force_hint}",
                params=[force_hint],
            )


def _as_path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


class ConvertSettings(TypedDict, total=False):
    """The fields of :class:`ConvertOptions` as keyword arguments of
    :func:`convert_archives` (the form before ``options=``, still taken)."""

    media: MediaChoice
    jobs: int | None
    timeout: float
    retries: int
    pat: str | None
    allow_missing: bool
    allow_empty: bool
    png: bool
    split: str
    video_frames: bool
    task: str
    image_labels: bool
    batch_size: int
    workers: int | None
    force: bool
    limits: Limits
    rows_per_file: int
    embedding: int
    metadata_columns: Sequence[str]
    bad_numbers: BadNumbers


def convert_archives(
    sources: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str] | BinaryIO,
    *,
    to: str,
    options: ConvertOptions | None = None,
    report_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
    media_progress: Callable[[int], None] | None = None,
    **settings: Unpack[ConvertSettings],
) -> ConvertReport:
    """Convert one or more archives into one output of format ``to``; return a report.

    ``to`` is a key of :data:`FORMATS`: ``json`` (Clarifai-Data-JSON zip), ``jsonl``
    (JSON Lines; ``output`` may be a binary stream such as ``sys.stdout.buffer``),
    ``coco``, ``yolo`` and ``voc`` (folders), ``protobuf`` (a rewritten archive), ``sdk``
    (the SDK export zip) or ``parquet`` (a folder of Parquet files, one row per input;
    see :mod:`toolkit.tabular`). The sources' inputs go out in order; an input id found
    twice is a :class:`~toolkit.errors.ConflictError` (``clarifai-archive merge``
    combines archives).

    ``options`` (a :class:`ConvertOptions`) holds every setting: media, downloads,
    the format's own settings, limits. Its fields may also be given as keyword arguments
    (``media="download"``, the form before ``options``; they are applied over
    ``options`` when both are given).

    With media, when some fail the output is not written and
    :class:`~toolkit.errors.MediaError` names them, unless ``allow_missing``; finished
    downloads are kept, so a re-run into the same output fetches only what is missing.
    Outputs are written under a temporary name and appear only when complete; an
    existing output is replaced then. A folder holding files a conversion did not write
    is refused unless ``force``. ``report_path`` receives the report as JSON (also when
    media failed). A source with no inputs is an
    :class:`~toolkit.errors.EmptyArchiveError` (nothing is written) unless
    ``allow_empty``, which converts it to an output with no inputs.
    ``progress(n)`` is called after each batch entry with ``n`` = 1; ``media_progress(n)``
    with the number of inputs whose media is done. Inputs carrying fields the schema
    does not know (from a Clarifai newer than the pinned one) are counted in the report
    for json, jsonl and sdk, which cannot hold them (``unknown_field_inputs``,
    ``unknown_fields``; :func:`toolkit.unknown.describe_unknown_fields` words the warning
    the CLI prints). A NaN or infinite number in an input's metadata has no JSON form:
    with ``bad_numbers="error"`` (the default, as protobuf) it is a
    :class:`~toolkit.errors.SchemaError` naming the input; with ``"null"`` it is written
    as null and the report counts and lists the inputs that held one.

    Example::

        report = convert_archives(["a.zip", "b.zip"], "all.jsonl", to="jsonl")
        options = ConvertOptions(media="download", pat=read_pat(), allow_missing=True)
        report = convert_archives(["a.zip"], "coco", to="coco", options=options)
    """
    options = with_settings(options, settings)
    fmt = FORMATS.get(to)
    if fmt is None:
        raise ValueError(f"unknown format {to!r}; choose one of {', '.join(FORMATS)}")
    _check_applies(fmt, options)
    paths = [Path(s) for s in sources]
    if not paths:
        raise ValueError("give at least one source archive")
    stream: BinaryIO | None = None
    if isinstance(output, (str, os.PathLike)):
        out_path: Path | None = Path(output)
    else:
        if not fmt.supports_stdout:
            raise ValueError(f"to={to!r} needs an output path, not a stream")
        stream, out_path = output, None
    limits, bad_numbers = options.limits, options.bad_numbers
    with contextlib.ExitStack() as stack:
        readers = [
            stack.enter_context(ArchiveReader(p, limits=limits, allow_empty=options.allow_empty))
            for p in paths
        ]
        if out_path is not None:
            _check_output(fmt, out_path, paths, options.force, _as_path(report_path))
        elif report_path is not None:
            check_outputs(
                {"report_path": _as_path(report_path)}, paths, existing_ok={"report_path"}
            )
        job = ConvertJob(
            output=out_path if out_path is not None else stream,  # type: ignore[arg-type]
            sources=tuple(paths),
            options=options,
            workers=options.workers
            or auto_workers(sum(e.size for r in readers for e in r.entries)),
            media_progress=media_progress,
        )
        inputs = batches = 0
        tally = UnknownFieldTally()
        converter = fmt(job)
        nulls = stack.enter_context(bad_numbers_as_null(bad_numbers == "null"))
        try:
            with _gc_paused():
                # Every batch of every source in order (``scan``: checked bytes and ids
                # where the converter reads them raw); repeated ids and empty sources refused.
                read = iter_batches(
                    readers,
                    scan=converter.reads_raw,
                    check_unknown=fmt.check_unknown,
                    work=converter.batch_work,
                    workers=job.workers,
                    task="converting",
                    scratch=converter.batch_scratch,
                )
                for source_batch in require_inputs(refuse_repeated_ids(read, readers)):
                    converter.write_batch(source_batch)
                    inputs += source_batch.count
                    batches += 1
                    for input_id in source_batch.unknown_ids:
                        tally.add_found(input_id, source_batch.unknown_fields)
                    if progress is not None:
                        progress(1)
                counts = converter.finish()
        except BaseException:
            converter.abort()
            raise
        unknown = tally.result()
        report = ConvertReport(
            format=to,
            output=str(out_path) if out_path is not None else "-",
            sources=tuple(str(p) for p in paths),
            inputs=inputs,
            batches=batches,
            unknown_field_inputs=unknown.inputs,
            unknown_field_examples=unknown.examples,
            unknown_fields=unknown.fields,
            bad_numbers=bad_numbers,
            nulled_numbers=nulls.numbers if nulls is not None else 0,
            nulled_number_inputs=nulls.input_count if nulls is not None else 0,
            nulled_number_ids=tuple(nulls.inputs) if nulls is not None else (),
            **counts.report_fields(),
        )
        if not report.ok and not options.allow_missing:
            converter.abort()
            if report_path is not None:
                write_report(report, report_path)
            raise MediaError(_failure_message(report, report_path), params=[param("allow_missing")])
        try:
            converter.commit()
        except BaseException:
            converter.abort()
            raise
    if report_path is not None:
        write_report(report, report_path)
    return report


def _check_applies(fmt: type[Converter], options: ConvertOptions) -> None:
    """ValueError when a setting for other formats is given (not its default)."""
    media, to = options.media, fmt.name
    if media != "none" and not fmt.supports_media:
        raise ValueError(
            f"media applies to to='coco', 'yolo', 'voc' and 'sdk'; to={to!r} keeps embedded "
            "bytes in the records"
        )
    if options.png and (fmt is not SdkConverter or media == "none"):
        raise ValueError("png applies to to='sdk' with media='embedded' or 'download'")
    if options.video_frames and fmt is not CocoConverter:
        raise ValueError("video_frames applies to to='coco'")
    if options.image_labels and fmt is not CocoConverter:
        raise ValueError("image_labels applies to to='coco'")
    if options.task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {options.task!r}")
    if options.task != "detect" and fmt is not YoloConverter:
        raise ValueError("task applies to to='yolo'")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: converting makes millions of short-lived dicts
    and lists but no cycles, and collections would cost 10-15% of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _failure_message(report: ConvertReport, report_path: object) -> str:
    assert report.media is not None
    failed = report.media.failed
    listed = "; ".join(f"{k!r}: {v}" for k, v in list(failed.items())[:_MAX_LISTED])
    more = f" and {len(failed) - _MAX_LISTED} more" if len(failed) > _MAX_LISTED else ""
    where = f" (all of them in {report_path})" if report_path is not None else ""
    return (
        f"the media of {len(failed)} input(s) could not be written{where}: {listed}{more}. "
        f"Nothing was written to {report.output}; finished downloads are kept, so a re-run "
        f"fetches only what is missing. Pass {param('allow_missing')} to write the output "
        "without them"
    )


def write_report(report: ConvertReport, path: str | os.PathLike[str]) -> None:
    """Write ``report`` as indented JSON to ``path``, atomically.

    Example::

        write_report(report, "report.json")
    """
    data = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
    try:
        with atomic_file(Path(path)) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
