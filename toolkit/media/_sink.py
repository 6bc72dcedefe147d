"""Write each input's media into one folder: from the archive, or downloaded."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import queue
import random
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import BinaryIO, Literal
from urllib.parse import urlsplit

from ..errors import MediaError, OutputError
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input
from ..safety import open_image
from ._http import DEFAULT_KEY_HOSTS, Fetcher, FetchError, FetchPolicy, LocalWriteError, hosted_url
from ._names import FileNamer
from ._sniff import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    TEXT_EXTENSIONS,
    VIDEO_EXTENSIONS,
    normalise_extension,
    sniff_extension,
)
from ._throttle import Throttle

__all__ = ["DEFAULT_DOWNLOAD_JOBS", "DEFAULT_WRITE_JOBS", "MediaMode", "MediaReport", "MediaSink"]

log = logging.getLogger(__name__)

MediaMode = Literal["embedded", "download"]
_MODES = ("embedded", "download")
_KINDS = ("image", "video", "audio", "text")
_DEFAULT_EXT = {"image": "jpg", "video": "mp4", "audio": "mp3", "text": "txt"}
_KIND_EXTS = {"image": IMAGE_EXTENSIONS, "video": VIDEO_EXTENSIONS, "audio": AUDIO_EXTENSIONS}
# Containers that may hold either sound or pictures.
_SHARED_CONTAINERS = frozenset({"mp4", "webm", "mkv", "ogg", "3gp", "mov", "m4a", "opus"})
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})
_TEMP = re.compile(r"^\..+\.part-\d+-[0-9a-f]{8}$")
_HEAD = 4096
#: Downloads at once by default (fewer while servers answer 429 or 503). Media downloads
#: wait on the network, not the CPU, so many at once is what makes them fast.
DEFAULT_DOWNLOAD_JOBS = 64
#: Files written at once by default when nothing is downloaded.
DEFAULT_WRITE_JOBS = 16
#: Bytes of embedded media waiting in the queue or being written, at most (one file
#: larger than this still goes through, alone).
MAX_QUEUED_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class MediaReport:
    """What a :class:`MediaSink` did, per input id, in the order inputs were submitted.

    Example::

        report = sink.close()
        for input_id, reason in report.failed.items():
            print(input_id, reason)
    """

    #: Files written in this run.
    written: int = 0
    #: Files found finished from an earlier run and kept as they were.
    reused: int = 0
    #: Inputs without media to write (see ``skipped_ids`` and ``skip_reasons``).
    skipped: int = 0
    skipped_ids: list[str] = field(default_factory=list)
    #: Why each skipped input was skipped (e.g. its media is only hosted).
    skip_reasons: dict[str, str] = field(default_factory=dict)
    #: Inputs whose media could not be written, with the reason.
    failed: dict[str, str] = field(default_factory=dict)
    #: Downloads saved under another name than ``submit`` returned (real format differs).
    renamed: dict[str, str] = field(default_factory=dict)
    #: Bytes written in this run.
    bytes_written: int = 0
    #: The fewest downloads at once after servers pushed back (429/503); None if never.
    jobs_lowered_to: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def combined(self, other: MediaReport) -> MediaReport:
        """One report for the work of two sinks (this one's inputs first)."""
        lowered = [n for n in (self.jobs_lowered_to, other.jobs_lowered_to) if n is not None]
        return MediaReport(
            written=self.written + other.written,
            reused=self.reused + other.reused,
            skipped=self.skipped + other.skipped,
            skipped_ids=self.skipped_ids + other.skipped_ids,
            skip_reasons={**self.skip_reasons, **other.skip_reasons},
            failed={**self.failed, **other.failed},
            renamed={**self.renamed, **other.renamed},
            bytes_written=self.bytes_written + other.bytes_written,
            jobs_lowered_to=min(lowered, default=None),
        )


@dataclass
class _Task:
    seq: int
    input_id: str
    kind: str
    stem: str
    name: str
    data: bytes | None = None
    url: str | None = None
    with_key: bool = False
    old_name: str | None = None


class _ContentError(Exception):
    """The bytes are not what the input says (not an image, too many pixels...)."""


class MediaSink:
    """Writes the media of inputs into ``folder``, concurrently, resumably and safely.

    ``mode="embedded"`` writes the bytes carried inside the archive (text inputs: their
    raw text as ``.txt``); inputs whose media is only a URL or hosted copy are skipped
    and reported. ``mode="download"`` also fetches hosted copies (``{prefix}/orig/
    {suffix}`` with ``Authorization: Key <pat>``) and plain ``url``s (without the key).

    Files keep their original bytes and the extension of their real format (``png=True``
    re-encodes images as PNG, as the Clarifai SDK does). ``jobs`` files are fetched or
    written at once (default :data:`DEFAULT_DOWNLOAD_JOBS` when downloading, else
    :data:`DEFAULT_WRITE_JOBS`); downloads go fewer at once, and back up again, while
    servers answer 429 or 503. Each file is written under a
    hidden temporary name and renamed when complete. A file already in ``folder`` under
    an input's name is reused, so a re-run fetches only what is missing. ``on_done(n)``
    is called from the thread that calls :meth:`submit`/:meth:`close`, with the number
    of inputs finished (written, reused, skipped or failed) since the last call.

    Example::

        with MediaSink(Path("out/images"), mode="download", pat=read_pat()) as sink:
            for record in reader.iter_inputs():
                name = sink.submit(record)
            report = sink.close()
    """

    def __init__(
        self,
        folder: Path,
        *,
        mode: MediaMode,
        jobs: int | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        pat: str | None = None,
        png: bool = False,
        on_done: Callable[[int], None] | None = None,
        namer: FileNamer | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        key_hosts: Sequence[str] = DEFAULT_KEY_HOSTS,
        max_bytes: int = 4 * 1024**3,
        limits: Limits = DEFAULT_LIMITS,
        seed: int | None = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
        if jobs is None:
            jobs = DEFAULT_DOWNLOAD_JOBS if mode == "download" else DEFAULT_WRITE_JOBS
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        if retries < 0 or timeout <= 0:
            raise ValueError("retries must be >= 0 and timeout > 0")
        self.folder = Path(folder)
        self.mode: MediaMode = mode
        self.jobs = jobs
        self.png = png
        self.namer = namer if namer is not None else FileNamer()
        if pat is not None and (not pat or any(ord(ch) < 33 or ord(ch) > 126 for ch in pat)):
            raise MediaError("the key is empty or holds spaces or characters a key cannot have")
        self._pat = pat
        self._policy = FetchPolicy(
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            max_bytes=max_bytes,
            key_hosts=tuple(key_hosts),
        )
        self._max_pixels = limits.max_image_pixels
        self._on_done = on_done
        self._seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._queue: queue.Queue[_Task | None] = queue.Queue(maxsize=2 * jobs)
        self._throttle = Throttle(jobs)
        self._room = threading.Condition()
        self._queued_bytes = 0
        self._threads: list[threading.Thread] = []
        self._fatal: BaseException | None = None
        self._seq = 0
        self._done_unreported = 0
        self._written = 0
        self._reused = 0
        self._bytes = 0
        self._skipped: list[tuple[int, str, str]] = []
        self._failed: list[tuple[int, str, str]] = []
        self._renamed: list[tuple[int, str, str]] = []
        self._report: MediaReport | None = None
        self._existing = self._scan()

    def __repr__(self) -> str:  # never shows the key
        return f"<MediaSink {self.mode} {str(self.folder)!r} jobs={self.jobs}>"

    # -- setup --------------------------------------------------------------

    def _scan(self) -> dict[str, str]:
        """Finished files already in the folder, by stem; stale temporary files removed."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            existing: dict[str, str] = {}
            with os.scandir(self.folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.name.startswith("."):
                        if _TEMP.match(entry.name) and entry.is_file(follow_symlinks=False):
                            with contextlib.suppress(OSError):
                                os.unlink(entry.path)
                        continue
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    stem, dot, _ext = entry.name.rpartition(".")
                    if dot:
                        existing.setdefault(stem, entry.name)
            return existing
        except OSError as exc:
            raise OutputError(
                f"{self.folder}: cannot use it as the media folder ({exc.strerror})"
            ) from None

    # -- public -------------------------------------------------------------

    def submit(self, record: Input) -> str | None:
        """Queue the input's media; return its provisional file name, or None when skipped.

        Blocks while ``2 * jobs`` files, or :data:`MAX_QUEUED_BYTES` of embedded media,
        are waiting, so memory stays flat.
        """
        if self._report is not None:
            raise RuntimeError("MediaSink is closed")
        self._raise_fatal()
        seq = self._seq
        self._seq += 1
        task, skip = self._plan(seq, record)
        if task is None:
            with self._lock:
                self._skipped.append((seq, record.id, skip or "no media"))
                self._done_unreported += 1
            self._report_progress()
            return None
        existing = self._existing.get(task.stem)
        if existing is not None and self._reusable(task, existing):
            with self._lock:
                self._reused += 1
                self._done_unreported += 1
            self._report_progress()
            return existing
        task.old_name = existing
        self._start_workers()
        size = len(task.data) if task.data is not None else 0
        while not self._reserve(size):
            self._report_progress()
            self._raise_fatal()
        while True:
            try:
                self._queue.put(task, timeout=0.1)
                break
            except queue.Full:
                self._report_progress()
                self._raise_fatal()
        self._report_progress()
        return task.name

    def close(self) -> MediaReport:
        """Wait for the queued work and return the report (the same one on every call)."""
        if self._report is not None:
            return self._report
        try:
            for _ in self._threads:
                while True:
                    try:
                        self._queue.put(None, timeout=0.1)
                        break
                    except queue.Full:
                        self._report_progress()
                        self._raise_fatal()
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(timeout=0.1)
                    self._report_progress()
            self._report_progress()
            self._raise_fatal()
        except BaseException:
            self.abort()
            raise
        self._report = self._build_report()
        return self._report

    def abort(self) -> None:
        """Stop at once: queued work is dropped and downloads in flight are cut short.

        Files already finished stay; no partial file is left behind.
        """
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        for _ in self._threads:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)  # wake workers waiting for work
        for thread in self._threads:
            thread.join(timeout=5.0)
        if self._report is None:
            self._report = self._build_report()

    @property
    def report(self) -> MediaReport | None:
        """The report once :meth:`close` (or :meth:`abort`) has run."""
        return self._report

    def __enter__(self) -> MediaSink:
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

    # -- planning (caller's thread) ------------------------------------------

    def _plan(self, seq: int, record: Input) -> tuple[_Task | None, str | None]:
        data = record.data
        kind = next((k for k in _KINDS if data.HasField(k)), None)
        if kind is None:
            return None, "no media in the input"
        stem = self.namer.stem_for(record.id)
        if kind == "text":
            text = data.text
            if text.raw:
                raw_text = text.raw.encode("utf-8")
                return _Task(seq, record.id, kind, stem, f"{stem}.txt", data=raw_text), None
            media = text
        else:
            media = getattr(data, kind)
            if media.base64:
                raw = bytes(media.base64)
                if self.png and kind == "image":
                    name = f"{stem}.png"
                else:
                    ext = sniff_extension(raw[:_HEAD]) or self._declared_ext(kind, media, "")
                    name = f"{stem}.{ext}"
                return _Task(seq, record.id, kind, stem, name, data=raw), None
        hosted = media.hosted
        if hosted.prefix:
            url, with_key = hosted_url(hosted.prefix, hosted.suffix), True
        elif media.url:
            url, with_key = media.url, False
        else:
            return None, f"no {kind} bytes, URL or hosted copy"
        if self.mode == "embedded":
            where = "a hosted copy" if with_key else "a URL"
            return (
                None,
                f"the {kind} is only {where}, not in the archive (--media download fetches it)",
            )
        if kind == "text":
            ext = "txt"
        elif self.png and kind == "image":
            ext = "png"
        else:
            ext = self._declared_ext(kind, media, url)
        return _Task(seq, record.id, kind, stem, f"{stem}.{ext}", url=url, with_key=with_key), None

    @staticmethod
    def _declared_ext(kind: str, media: object, url: str) -> str:
        declared = ""
        if kind == "image":
            declared = media.image_info.format  # type: ignore[attr-defined]
        elif kind == "video":
            declared = media.video_info.video_format  # type: ignore[attr-defined]
        elif kind == "audio":
            declared = media.audio_info.audio_format  # type: ignore[attr-defined]
        ext = normalise_extension(declared) if declared else None
        if ext is None and url:
            with contextlib.suppress(ValueError):
                suffix = PurePosixPath(urlsplit(url).path).suffix
                ext = normalise_extension(suffix) if suffix else None
        return ext or _DEFAULT_EXT[kind]

    def _reusable(self, task: _Task, existing: str) -> bool:
        if self.png and task.kind == "image" and not existing.endswith(".png"):
            return False
        if task.data is None:
            return True  # a download finished by an earlier run
        if existing != task.name:
            return False
        if self.png and task.kind == "image":
            return True
        try:
            return (self.folder / existing).stat().st_size == len(task.data)
        except OSError:
            return False

    # -- workers --------------------------------------------------------------

    def _start_workers(self) -> None:
        if self._threads:
            return
        if self.png or self.mode == "download":
            from PIL import Image

            Image.init()  # load pillow's plugins once, before threads race to do it
        for n in range(self.jobs):
            thread = threading.Thread(target=self._work, args=(n,), name=f"media-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _reserve(self, size: int) -> bool:
        """Count ``size`` bytes as queued if they fit (waiting up to 0.1 s); else False."""
        with self._room:
            if self._queued_bytes and self._queued_bytes + size > MAX_QUEUED_BYTES:
                self._room.wait(0.1)
                if self._queued_bytes and self._queued_bytes + size > MAX_QUEUED_BYTES:
                    return False
            self._queued_bytes += size
            return True

    def _release(self, task: _Task) -> None:
        if task.data is None:
            return
        with self._room:
            self._queued_bytes -= len(task.data)
            self._room.notify()

    def _work(self, n: int) -> None:
        fetcher = Fetcher(
            self._policy,
            pat=self._pat,
            rng=random.Random(self._seed + n),
            stop=self._stop,
            throttle=self._throttle,
        )
        try:
            while True:
                task = self._queue.get()
                if task is None or self._stop.is_set():
                    return
                try:
                    self._process(task, fetcher)
                    self._release(task)
                except OutputError as exc:
                    with self._lock:
                        if self._fatal is None:
                            self._fatal = exc
                    self._stop.set()
                    return
                except BaseException as exc:  # a bug must not hang the caller
                    with self._lock:
                        if self._fatal is None:
                            self._fatal = exc
                    self._stop.set()
                    return
        finally:
            fetcher.close()

    def _process(self, task: _Task, fetcher: Fetcher) -> None:
        tmp = self.folder / f".{task.stem}.part-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            try:
                final, size = self._produce(task, fetcher, tmp)
            except (FetchError, _ContentError) as exc:
                if self._stop.is_set():
                    return
                reason = str(exc)
                if self._pat and self._pat in reason:
                    reason = reason.replace(self._pat, "***")
                with self._lock:
                    self._failed.append((task.seq, task.input_id, reason))
                    self._done_unreported += 1
                return
            if task.old_name and task.old_name != final:
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / task.old_name).unlink()
            with self._lock:
                self._written += 1
                self._bytes += size
                if task.url is not None and final != task.name:
                    self._renamed.append((task.seq, task.input_id, final))
                self._done_unreported += 1
        except LocalWriteError as exc:
            raise self._output_error(exc.error, task) from None
        except OSError as exc:
            raise self._output_error(exc, task) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _output_error(self, exc: OSError, task: _Task) -> OutputError:
        reason = exc.strerror or type(exc).__name__
        return OutputError(
            f"{self.folder}: cannot write the media of input {task.input_id!r} ({reason})"
        )

    def _produce(self, task: _Task, fetcher: Fetcher, tmp: Path) -> tuple[str, int]:
        """Write the media to ``tmp``, then rename it to its final name; return name and size."""
        if task.data is not None:
            if self.png and task.kind == "image":
                size = self._write_png(io.BytesIO(task.data), tmp)
            else:
                tmp.write_bytes(task.data)
                size = len(task.data)
            final = task.name
        else:
            assert task.url is not None
            with open(tmp, "w+b") as fh:
                fetcher.fetch(task.url, fh, with_key=task.with_key)
                size = fh.tell()
                fh.seek(0)
                head = fh.read(_HEAD)
                ext = self._checked_ext(task, head, fh)
                if self.png and task.kind == "image":
                    fh.seek(0)
                    png_tmp = tmp.with_name(tmp.name + "-png")
                    try:
                        size = self._write_png(fh, png_tmp)
                        os.replace(png_tmp, tmp)
                    finally:
                        with contextlib.suppress(FileNotFoundError):
                            png_tmp.unlink()
                    ext = "png"
            final = f"{task.stem}.{ext}"
        os.replace(tmp, self.folder / final)
        return final, size

    def _checked_ext(self, task: _Task, head: bytes, fh: BinaryIO) -> str:
        """The real extension of a download, or _ContentError when it is not the input's kind."""
        if task.kind == "text":
            return "txt"
        ext = sniff_extension(head)
        kind_exts = _KIND_EXTS[task.kind]
        if task.kind == "image":
            if ext in IMAGE_EXTENSIONS:
                return ext
            if ext is None:
                fh.seek(0)
                ext = _pillow_format(fh)
                if ext is not None:
                    return ext
            got = f"the server sent {ext}" if ext else "unrecognised bytes"
            raise _ContentError(f"not an image ({got}, {_size_note(fh)})")
        if ext in TEXT_EXTENSIONS or ext == "pdf":
            raise _ContentError(f"not {task.kind} (the server sent {ext}, {_size_note(fh)})")
        if ext is None:
            return task.name.rpartition(".")[2]
        if ext in kind_exts or ext in _SHARED_CONTAINERS:
            return ext
        raise _ContentError(f"not {task.kind} (the server sent {ext})")

    def _write_png(self, src: BinaryIO, dest: Path) -> int:
        """Re-encode an image as PNG (as the SDK does), within the pixel limit."""
        from PIL import Image

        try:
            # The header only, no pillow warning: the size is checked here, with its message.
            with open_image(src, max_pixels=None, where="png") as image:
                width, height = image.size
                if width * height > self._max_pixels:
                    raise _ContentError(
                        f"image too large: {width}x{height} pixels, more than the limit of "
                        f"{self._max_pixels} (--max-image-pixels)"
                    )
                image.load()
                out: Image.Image = image
                if out.mode not in _PNG_MODES:
                    has_alpha = "A" in out.getbands() or out.has_transparency_data
                    out = out.convert("RGBA" if has_alpha else "RGB")
                try:
                    out.save(dest, format="PNG")
                except OSError as exc:
                    raise LocalWriteError(exc) from exc
        except Image.DecompressionBombError as exc:
            raise _ContentError(f"image too large ({exc})") from None
        except MediaError as exc:
            if "cannot identify image file" in str(exc):
                raise _ContentError("not an image (pillow cannot read it)") from None
            raise _ContentError(str(exc).removeprefix("png: ")) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _ContentError(f"not a readable image ({exc})") from None
        return dest.stat().st_size

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            fatal = self._fatal
            self.abort()
            if isinstance(fatal, OutputError):
                raise fatal
            text = repr(fatal)
            if self._pat:
                text = text.replace(self._pat, "***")
            raise MediaError(f"media worker failed: {text}") from None

    def _report_progress(self) -> None:
        if self._on_done is None:
            return
        with self._lock:
            n, self._done_unreported = self._done_unreported, 0
        if n:
            self._on_done(n)

    def _build_report(self) -> MediaReport:
        with self._lock:
            skipped = sorted(self._skipped)
            return MediaReport(
                written=self._written,
                reused=self._reused,
                skipped=len(skipped),
                skipped_ids=[input_id for _, input_id, _ in skipped],
                skip_reasons={input_id: why for _, input_id, why in skipped},
                failed={input_id: why for _, input_id, why in sorted(self._failed)},
                renamed={input_id: name for _, input_id, name in sorted(self._renamed)},
                bytes_written=self._bytes,
                jobs_lowered_to=(
                    self._throttle.lowest if self._throttle.lowest < self.jobs else None
                ),
            )


def _pillow_format(fh: BinaryIO) -> str | None:
    """The format pillow recognises in a file it can open, as an extension, or None."""
    try:
        with open_image(fh, max_pixels=None) as image:  # any size: the format only
            fmt = image.format or ""
    except MediaError:
        return None
    ext = normalise_extension(fmt) or re.sub(r"[^a-z0-9]", "", fmt.lower())[:10]
    return ext or None


def _size_note(fh: BinaryIO) -> str:
    fh.seek(0, os.SEEK_END)
    return f"{fh.tell()} bytes"
