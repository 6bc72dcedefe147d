"""Safety limits applied when reading untrusted archives.

Every limit is checked before the work it bounds is done: sizes come from the zip's
central directory and are enforced again while decompressing, so a lying header
cannot make the reader allocate more than the limit.

==================  ===================  ===========================================
field               CLI option           bounds
==================  ===================  ===========================================
max_entries         --max-entries        zip entries (checked before they are parsed)
max_batch_bytes     --max-batch-bytes    uncompressed bytes of one batch entry
max_batch_objects   --max-batch-objects  objects one parsed batch holds (its memory)
max_total_bytes     --max-total-bytes    uncompressed bytes of the whole archive
max_ratio           --max-ratio          compression ratio of an entry and the archive
max_image_pixels    --max-image-pixels   pixels of one decoded image
max_metadata_depth  --max-metadata-depth nesting of an input's metadata
==================  ===================  ===========================================
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
    #: Most fields (objects in memory: messages, list items, JSON values) in one batch.
    #: A parsed object takes up to ~100 bytes, so this bounds a batch's memory (~500 MB)
    #: whatever its size on disk: 2 bytes of ``\x0a\x00`` are one empty input. Entries
    #: under twice this many bytes cannot exceed it and are not counted.
    max_batch_objects: int = 5_000_000
    #: Most uncompressed bytes across the whole archive.
    max_total_bytes: int = 1024 * _GiB
    #: Highest uncompressed/compressed ratio of one entry, and of the whole archive
    #: (uncompressed total / file size); entries and archives under 1 MiB are exempt.
    max_ratio: float = 1000.0
    #: Most pixels of one image when decoding media (pillow's decompression-bomb check).
    max_image_pixels: int = 178_956_970
    #: Deepest nesting of an input's metadata (1 = flat; +1 per struct or list level).
    #: Protobuf's own limit (100 message levels, about 32 metadata levels) applies first.
    max_metadata_depth: int = 64

    #: Entries smaller than this are not checked for their ratio.
    ratio_exempt_bytes: int = _MiB

    def __post_init__(self) -> None:
        for name in (
            "max_entries",
            "max_batch_bytes",
            "max_batch_objects",
            "max_total_bytes",
            "max_image_pixels",
            "max_metadata_depth",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")
        if not self.max_ratio >= 1:
            raise ValueError("Limits.max_ratio must be at least 1")


DEFAULT_LIMITS = Limits()
