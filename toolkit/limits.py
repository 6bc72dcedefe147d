"""Safety limits applied when reading untrusted archives.

Every limit is checked before the work it bounds is done: sizes come from the zip's
central directory and are enforced again while decompressing, so a lying header
cannot make the reader allocate more than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]

_MiB = 1024 * 1024
_GiB = 1024 * _MiB


@dataclass(frozen=True)
class Limits:
    """Bounds on what one archive may make the toolkit do.

    Example::

        reader = ArchiveReader(path, limits=Limits(max_batch_bytes=2 * 1024**3))
    """

    #: Most entries in one zip (batches plus mimetype and folders).
    max_entries: int = 2_000_000
    #: Most uncompressed bytes in one batch entry.
    max_batch_bytes: int = 512 * _MiB
    #: Most uncompressed bytes across the whole archive.
    max_total_bytes: int = 1024 * _GiB
    #: Highest uncompressed/compressed ratio of one entry (entries under 1 MiB are exempt).
    max_ratio: float = 1000.0
    #: Most pixels of one image when decoding media (pillow's decompression-bomb check).
    max_image_pixels: int = 178_956_970
    #: Deepest nesting of metadata Structs and lists.
    max_metadata_depth: int = 64

    #: Entries smaller than this are not checked for their ratio.
    ratio_exempt_bytes: int = _MiB


DEFAULT_LIMITS = Limits()
