"""Pictures for the web app: thumbnails, previews and region masks, made with Pillow.

An input's image comes from the bytes embedded in the archive, from a local media
folder (files named as ``convert`` names them: the input id made safe, any extension),
or, when downloads are allowed, from its hosted copy or URL, fetched with the rules of
``convert --media download`` (the key only to Clarifai-hosted copies over https). Every
image is decoded under the pixel limit and re-encoded, so the browser never receives
bytes from the archive as they are. Results are kept in a cache bounded in bytes.

Example::

    pictures = Pictures(limits=DEFAULT_LIMITS)
    jpeg = pictures.thumbnail(record)     # bytes of a JPEG, or None when there is no image
"""

from __future__ import annotations

import io
import logging
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LimitError, MediaError
from ..limits import DEFAULT_LIMITS, Limits
from ..media import DEFAULT_KEY_HOSTS, FileNamer, hosted_url
from ..media._http import Fetcher, FetchError, FetchPolicy
from ..messages import Input, Region
from ..safety import open_image

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["MediaFolder", "PictureCache", "Pictures"]

log = logging.getLogger(__name__)

THUMB_SIZE = 256
PREVIEW_SIZE = 1280
#: Bytes of thumbnails, previews and masks kept in memory.
DEFAULT_CACHE_BYTES = 128 * 1024 * 1024
#: Largest download accepted for one picture.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class PictureCache:
    """A least-recently-used cache of encoded pictures, bounded in bytes. Thread-safe."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[str, ...], value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes


class MediaFolder:
    """A folder of media files named by input id, as ``convert --media`` writes them."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise MediaError(f"{self.folder}: no such media folder")
        self._by_stem: dict[str, Path] = {}
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                self._by_stem.setdefault(path.stem, path)

    def find(self, input_id: str) -> Path | None:
        """The file of ``input_id``, or None. The name is the one ``convert`` gives an id
        that clashes with no earlier one (ids differing only in case get a hashed name there,
        which depends on the order: such a file is found by its plain id only)."""
        stem = FileNamer().stem_for(input_id)
        return self._by_stem.get(stem) or self._by_stem.get(input_id)


class Pictures:
    """Makes and caches the pictures the web app shows.

    ``download`` allows fetching hosted copies (with ``pat``) and plain URLs; the key is
    never part of a result or a message.
    """

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        media_folder: MediaFolder | None = None,
        download: bool = False,
        pat: str | None = None,
        timeout: float = 30.0,
        key_hosts: tuple[str, ...] = DEFAULT_KEY_HOSTS,
        cache: PictureCache | None = None,
    ) -> None:
        self.limits = limits
        self.media_folder = media_folder
        self.download = download
        self._pat = pat
        self._policy = FetchPolicy(
            timeout=timeout, retries=2, max_bytes=MAX_DOWNLOAD_BYTES, key_hosts=key_hosts
        )
        self._local = threading.local()
        self._fetchers: list[Fetcher] = []
        self._fetchers_lock = threading.Lock()
        self.cache = cache or PictureCache()
        self._failed: dict[str, str] = {}

    def __repr__(self) -> str:  # never shows the key
        return f"<Pictures download={self.download}>"

    def close(self) -> None:
        """Close the connections kept for downloads."""
        with self._fetchers_lock:
            fetchers, self._fetchers = self._fetchers, []
        for fetcher in fetchers:
            fetcher.close()

    # -- sources -----------------------------------------------------------------------

    def _fetcher(self) -> Fetcher:
        fetcher = getattr(self._local, "fetcher", None)
        if fetcher is None:
            fetcher = self._local.fetcher = Fetcher(self._policy, pat=self._pat)
            with self._fetchers_lock:
                self._fetchers.append(fetcher)
        assert isinstance(fetcher, Fetcher)
        return fetcher

    def image_bytes(self, record: Input) -> bytes | None:
        """The image of ``record``: embedded, from the media folder, or downloaded."""
        data = record.data
        if not data.HasField("image"):
            return None
        image = data.image
        if image.base64:
            return bytes(image.base64)
        if self.media_folder is not None:
            path = self.media_folder.find(record.id)
            if path is not None:
                try:
                    return path.read_bytes()
                except OSError as exc:
                    log.info("%s: unreadable (%s)", path, exc.strerror)
        if not self.download:
            return None
        if image.hosted.prefix:
            url, with_key = hosted_url(image.hosted.prefix, image.hosted.suffix), True
        elif image.url:
            url, with_key = image.url, False
        else:
            return None
        if record.id in self._failed:
            return None
        buffer = io.BytesIO()
        try:
            self._fetcher().fetch(url, buffer, with_key=with_key)
        except FetchError as exc:
            self._failed[record.id] = exc.reason
            log.info("%s: download failed: %s", record.id, exc.reason)
            return None
        return buffer.getvalue()

    # -- pictures ------------------------------------------------------------------------

    def _decoded(self, data: bytes, where: str, size: int) -> PILImage.Image | None:
        try:
            with open_image(data, max_pixels=self.limits.max_image_pixels, where=where) as img:
                img.draft("RGB", (size, size))
                picture = img.convert("RGB")
        except (LimitError, MediaError, OSError, ValueError, SyntaxError) as exc:
            log.info("%s: no picture (%s)", where, exc)
            return None
        picture.thumbnail((size, size))
        return picture

    def _picture(self, record: Input, kind: str, size: int) -> bytes | None:
        key = (kind, record.id)
        cached = self.cache.get(key)
        if cached is not None:
            return cached or None
        data = self.image_bytes(record)
        encoded = b""
        if data:
            picture = self._decoded(data, f"input {record.id!r}", size)
            if picture is not None:
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=85 if kind == "thumb" else 90)
                encoded = out.getvalue()
        self.cache.put(key, encoded)  # b"": known to have none
        return encoded or None

    def thumbnail(self, record: Input) -> bytes | None:
        """A JPEG at most 256 px a side, or None when the input has no image to show."""
        return self._picture(record, "thumb", THUMB_SIZE)

    def preview(self, record: Input) -> bytes | None:
        """A JPEG at most 1280 px a side for the input view, or None."""
        return self._picture(record, "preview", PREVIEW_SIZE)

    def mask(self, record: Input, number: int, region: Region, rgb: tuple[int, int, int]) -> bytes:
        """Region ``number``'s mask as a PNG: ``rgb`` half-transparent where the mask is set."""
        key = ("mask", record.id, str(number), repr(rgb))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        from PIL import Image

        data = bytes(region.region_info.mask.image.base64)
        where = f"input {record.id!r}, region {number} mask"
        if not data:
            raise MediaError(f"{where}: the mask carries no image bytes")
        with open_image(data, max_pixels=self.limits.max_image_pixels, where=where) as img:
            try:
                grey = img.convert("L")
            except (OSError, ValueError, SyntaxError) as exc:
                raise MediaError(f"{where}: not a readable image ({exc})") from None
        grey.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
        alpha = grey.point(lambda v: 110 if v else 0)
        layer = Image.new("RGBA", grey.size, (*rgb, 0))
        layer.putalpha(alpha)
        out = io.BytesIO()
        layer.save(out, "PNG")
        encoded = out.getvalue()
        self.cache.put(key, encoded)
        return encoded


def default_cache_dir() -> Path:
    """A scratch folder for one run (an index built on start)."""
    return Path(tempfile.mkdtemp(prefix="clarifai-archive-serve-"))
