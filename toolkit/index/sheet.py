"""Look at search results: a contact sheet (PNG) and a self-contained HTML gallery.

Media come from the archives recorded in the index sidecar, or from a folder of
files named by input id (any extension). Inputs without image media get a
placeholder tile (a text input shows its text). Images are decoded with Pillow
under a pixel limit (the decompression-bomb check): larger ones get a placeholder.

Example::

    index = SimilarityIndex.load("my-index")
    rows = [SheetRow("img-0007", True, index.search_like(["img-0007"], k=8)[0])]
    media, notes = gather_media(rows, index=index)
    write_sheet("sheet.png", rows, media)
"""

from __future__ import annotations

import base64
import html
import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from .._atomic import atomic_file
from ..archive import ArchiveReader
from ..errors import ArchiveError, LimitError, MediaError, OutputError, param
from ..limits import DEFAULT_LIMITS, Limits
from ..records import input_type
from ..safety import open_image
from .core import Hit, SimilarityIndex

__all__ = [
    "CAPTION_HEIGHT",
    "NOTE_PARAMS",
    "Media",
    "SheetRow",
    "gather_media",
    "render_sheet",
    "write_gallery",
    "write_sheet",
]

#: Pixels under each tile for the id and score.
CAPTION_HEIGHT = 30
#: The parameters :func:`gather_media`'s notes may name, as :func:`~toolkit.errors.param`
#: spells them (the CLI writes its flags in their place: ``--media-dir``).
NOTE_PARAMS = (param("media_dir", ...),)
_MEDIA_DIR = NOTE_PARAMS[0]
_BACKGROUND = (245, 245, 245)
_PLACEHOLDER = (205, 208, 214)
_QUERY_BORDER = (30, 110, 220)


@dataclass(frozen=True)
class SheetRow:
    """One query and its hits; ``query`` is an input id, or a label for a query vector."""

    query: str
    query_is_input: bool
    hits: Sequence[Hit]


@dataclass(frozen=True)
class Media:
    """What a tile shows: image bytes, a text, or a placeholder with a reason."""

    kind: Literal["image", "text", "none"]
    data: bytes = field(default=b"", repr=False)
    text: str = ""


def _wanted_ids(rows: Sequence[SheetRow]) -> list[str]:
    wanted: dict[str, None] = {}
    for row in rows:
        if row.query_is_input:
            wanted[row.query] = None
        for hit in row.hits:
            wanted[hit.id] = None
    return list(wanted)


def gather_media(
    rows: Sequence[SheetRow],
    *,
    index: SimilarityIndex | None = None,
    media_dir: str | os.PathLike[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[dict[str, Media], list[str]]:
    """The media of every input on the sheet, and notes about what could not be found
    (naming the parameters in :data:`NOTE_PARAMS`).

    With ``media_dir`` the files there are used (named ``<id>.<ext>``); otherwise each
    archive recorded in the index sidecar is read once, stopping when all are found.
    """
    wanted = _wanted_ids(rows)
    media: dict[str, Media] = {}
    notes: list[str] = []
    if media_dir is not None:
        folder = Path(media_dir)
        if not folder.is_dir():
            raise OutputError(f"{folder}: no such media folder")
        by_stem: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file():
                by_stem.setdefault(path.stem, path)
                by_stem.setdefault(path.name, path)
        for input_id in wanted:
            found = by_stem.get(input_id)
            if found is None:
                media[input_id] = Media("none", text="no media file")
                continue
            try:
                media[input_id] = Media("image", data=found.read_bytes())
            except OSError as exc:
                media[input_id] = Media("none", text="unreadable file")
                notes.append(f"{found}: unreadable ({exc.strerror or exc})")
        missing = [i for i in wanted if media[i].kind == "none"]
        if missing:
            notes.append(
                f"{folder}: no media file for {len(missing)} input(s), e.g. {missing[0]!r}"
            )
        return media, notes
    remaining = set(wanted)
    sources = index.sources if index is not None else []
    for source in sources:
        if not remaining:
            break
        if not source.get("path"):
            continue
        path = Path(source["path"])
        if not path.is_file():
            notes.append(f"{path}: the archive recorded in the index is gone; use {_MEDIA_DIR}")
            continue
        if source.get("bytes") not in (None, path.stat().st_size):
            notes.append(f"{path}: changed since the index was built; media may not match")
        try:
            with ArchiveReader(path, limits=limits) as reader:
                for _entry, batch in reader.iter_batches():
                    for record in batch.inputs:
                        if record.id not in remaining:
                            continue
                        remaining.discard(record.id)
                        kind = input_type(record)
                        if kind == "image" and record.data.image.base64:
                            media[record.id] = Media("image", data=bytes(record.data.image.base64))
                        elif kind == "text" and record.data.text.raw:
                            media[record.id] = Media("text", text=record.data.text.raw)
                        elif kind == "image":
                            media[record.id] = Media("none", text="hosted image")
                        else:
                            media[record.id] = Media("none", text=f"{kind} input")
                    if not remaining:
                        break
        except ArchiveError as exc:
            notes.append(str(exc))
    for input_id in remaining:
        media[input_id] = Media("none", text="no media")
    hosted = [i for i in wanted if media[i].text == "hosted image"]
    if hosted:
        notes.append(
            f"{len(hosted)} input(s) hold only a hosted URL (e.g. {hosted[0]!r}); download the "
            f"media and pass {_MEDIA_DIR} to see them"
        )
    return media, notes


_Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int) -> _Font:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def _decode(data: bytes, tile: int, limits: Limits) -> tuple[Image.Image | None, str]:
    """A thumbnail fitting ``tile`` x ``tile``, or None and why."""
    try:
        with open_image(data, max_pixels=limits.max_image_pixels) as img:
            img.draft("RGB", (tile, tile))
            thumb = img.convert("RGB")
            thumb.thumbnail((tile, tile))
            return thumb, ""
    except LimitError:
        return None, "image too large"
    except (MediaError, OSError, ValueError, SyntaxError, UnidentifiedImageError):
        return None, "unreadable image"


def _placeholder(tile: int, text: str, *, wrap: bool = False) -> Image.Image:
    img = Image.new("RGB", (tile, tile), _PLACEHOLDER)
    draw = ImageDraw.Draw(img)
    font = _font(11)
    columns, rows = max(8, tile // 7), max(1, tile // 14)
    # Only what fits is wrapped: textwrap is quadratic in a long word, and a text input
    # may be megabytes long.
    text = text[: columns * rows * 2] if wrap else _fit(draw, text, font, tile - 4)
    lines = textwrap.wrap(text, width=columns)[:rows] if wrap else [text]
    y = 6 if wrap else tile // 2 - 7
    for line in lines:
        width = draw.textlength(line, font=font)
        x = 6 if wrap else max(2, (tile - width) / 2)
        draw.text((x, y), line, fill=(60, 60, 70), font=font)
        y += 13
    return img


def _tile_image(media: Media | None, tile: int, limits: Limits) -> Image.Image:
    if media is None or media.kind == "none":
        return _placeholder(tile, media.text if media else "no media")
    if media.kind == "text":
        return _placeholder(tile, media.text, wrap=True)
    thumb, why = _decode(media.data, tile, limits)
    if thumb is None:
        return _placeholder(tile, why)
    img = Image.new("RGB", (tile, tile), _BACKGROUND)
    img.paste(thumb, ((tile - thumb.width) // 2, (tile - thumb.height) // 2))
    return img


def _fit(draw: ImageDraw.ImageDraw, text: str, font: _Font, width: int) -> str:
    # A glyph is at least a pixel wide: more characters than pixels never fit.
    limit = max(0, int(width)) + 1
    cut, text = len(text) > limit, text[:limit]
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # ids may hold newlines
    if not cut and draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _score_text(score: float) -> str:
    return f"{score:.4f}"


def render_sheet(
    rows: Sequence[SheetRow],
    media: Mapping[str, Media],
    *,
    tile: int = 160,
    limits: Limits = DEFAULT_LIMITS,
) -> Image.Image:
    """One row per query: the query tile, then its hits; ids and scores under each tile.

    The image is ``(1 + most hits in a row) * tile`` pixels wide and
    ``len(rows) * (tile + CAPTION_HEIGHT)`` high.
    """
    if tile < 32:
        raise ValueError("tile must be at least 32 pixels")
    columns = 1 + max((len(r.hits) for r in rows), default=0)
    height = tile + CAPTION_HEIGHT
    sheet = Image.new("RGB", (columns * tile, max(1, len(rows)) * height), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(11)
    cache: dict[str, Image.Image] = {}

    def tile_for(input_id: str | None) -> Image.Image:
        if input_id is None:
            return _placeholder(tile, "query vector")
        if input_id not in cache:
            cache[input_id] = _tile_image(media.get(input_id), tile, limits)
        return cache[input_id]

    for r, row in enumerate(rows):
        top = r * height
        sheet.paste(tile_for(row.query if row.query_is_input else None), (0, top))
        draw.rectangle([0, top, tile - 1, top + tile - 1], outline=_QUERY_BORDER, width=3)
        draw.text(
            (4, top + tile + 2), _fit(draw, row.query, font, tile - 8), fill="black", font=font
        )
        draw.text((4, top + tile + 15), "query", fill=_QUERY_BORDER, font=font)
        for c, hit in enumerate(row.hits, start=1):
            left = c * tile
            sheet.paste(tile_for(hit.id), (left, top))
            draw.rectangle([left, top, left + tile - 1, top + tile - 1], outline="white", width=1)
            label = f"{hit.rank}. {hit.id}"
            draw.text(
                (left + 4, top + tile + 2),
                _fit(draw, label, font, tile - 8),
                fill="black",
                font=font,
            )
            draw.text(
                (left + 4, top + tile + 15), _score_text(hit.score), fill=(90, 90, 90), font=font
            )
    return sheet


def _check_output(path: Path, force: bool) -> None:
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not force:
        hint = param("force")
        raise OutputError(f"{path}: exists; pass {hint} to overwrite it", params=[hint])
    if not path.parent.exists():
        raise OutputError(f"{path.parent}: no such folder")


def write_sheet(
    path: str | os.PathLike[str],
    rows: Sequence[SheetRow],
    media: Mapping[str, Media],
    *,
    tile: int = 160,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Path:
    """Render the contact sheet and save it as a PNG, atomically.

    Example::

        write_sheet("sheet.png", rows, media, tile=128)
    """
    out = Path(path)
    _check_output(out, force)
    image = render_sheet(rows, media, tile=tile, limits=limits)
    try:
        with atomic_file(out) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return out


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
.row{display:flex;flex-wrap:wrap;gap:.6rem}
figure{margin:0;width:TILEpx;background:#fff;border:1px solid #ddd;border-radius:4px;
overflow:hidden}
figure.query{border:3px solid #1e6edc}
figure img{display:block;width:TILEpx;height:TILEpx;object-fit:contain;background:#f5f5f5}
figcaption{font-size:.75rem;padding:.25rem .4rem;word-break:break-all}
.score{color:#666}
"""


def write_gallery(
    path: str | os.PathLike[str],
    rows: Sequence[SheetRow],
    media: Mapping[str, Media],
    *,
    tile: int = 160,
    title: str = "Similar inputs",
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Path:
    """Write a static, self-contained HTML page (thumbnails inline as data URIs).

    Example::

        write_gallery("results.html", rows, media)
    """
    out = Path(path)
    _check_output(out, force)
    cache: dict[str, str] = {}

    def uri(input_id: str | None) -> str:
        key = input_id or ""
        if key not in cache:
            image = (
                _tile_image(media.get(input_id), tile, limits)
                if input_id is not None
                else _placeholder(tile, "query vector")
            )
            cache[key] = _data_uri(image)
        return cache[key]

    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{_CSS.replace('TILE', str(tile))}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    for row in rows:
        parts.append(f'<section><h2>Query: {esc(row.query)}</h2><div class="row">')
        query_id = row.query if row.query_is_input else None
        parts.append(
            f'<figure class="query"><img alt="{esc(row.query)}" src="{uri(query_id)}">'
            f"<figcaption>{esc(row.query)}<br>"
            '<span class="score">query</span></figcaption></figure>'
        )
        for hit in row.hits:
            parts.append(
                f'<figure><img alt="{esc(hit.id)}" src="{uri(hit.id)}"><figcaption>'
                f'{hit.rank}. {esc(hit.id)}<br><span class="score">{_score_text(hit.score)}'
                "</span></figcaption></figure>"
            )
        parts.append("</div></section>")
    parts.append("</body></html>\n")
    try:
        with atomic_file(out) as tmp:
            tmp.write_text("\n".join(parts), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return out
