"""Media of the inputs: write embedded bytes or download hosted copies, safely.

Example::

    from toolkit.media import MediaSink, read_pat

    with ArchiveReader("clarifai-data-protobuf.zip") as reader, MediaSink(
        Path("out/images"), mode="download", pat=read_pat()
    ) as sink:
        for record in reader.iter_inputs():
            sink.submit(record)
        report = sink.close()
    print(report.written, report.failed)
"""

from __future__ import annotations

from ._http import DEFAULT_KEY_HOSTS, hosted_url
from ._names import MAX_NAME_BYTES, FileNamer
from ._pat import PAT_ENV, read_pat
from ._sink import MediaMode, MediaReport, MediaSink
from ._sniff import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    TEXT_EXTENSIONS,
    VIDEO_EXTENSIONS,
    normalise_extension,
    sniff_extension,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_KEY_HOSTS",
    "IMAGE_EXTENSIONS",
    "MAX_NAME_BYTES",
    "PAT_ENV",
    "TEXT_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "FileNamer",
    "MediaMode",
    "MediaReport",
    "MediaSink",
    "hosted_url",
    "normalise_extension",
    "read_pat",
    "sniff_extension",
]
