"""The Starlette app: JSON routes over :class:`ArchiveBrowser`, pictures and actions.

Every route is thin: it parses the request, calls the library and returns JSON (or a
picture). Safety: requests must name a loopback host (or the one given with ``--host``)
in their ``Host`` header, against DNS rebinding; every POST must carry the per-run token
(``X-Toolkit-Token``, given to the page in a ``<meta>`` tag) and, when the browser sends
one, an ``Origin`` of this server; pages get a strict Content-Security-Policy; the
Clarifai key never appears in a response.

Example::

    app = create_app(ServeConfig(archive=Path("export.zip"), output_root=Path(".")))
    # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import colorsys
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.to_thread  # noqa: F401 - loaded now, not on the first request
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InputNotFoundError, ToolkitError
from ..jsonmap import input_to_dict
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input
from ..records import input_type, iter_regions, region_shapes
from ..safety import redact
from ..subset import FilterCriteria, parse_metadata_filter
from .actions import Actions
from .pictures import MediaFolder, Pictures
from .state import DEFAULT_SIMILAR_HITS, WAIT_ALL_S, ArchiveBrowser

__all__ = ["LOOPBACK_HOSTS", "TOKEN_HEADER", "ServeConfig", "create_app", "region_colour"]

TOKEN_HEADER = "X-Toolkit-Token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_PER_PAGE = 500
#: Longest a page request waits for rows still being read, in seconds.
PAGE_WAIT_S = 0.8
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


@dataclass
class ServeConfig:
    """What ``clarifai-archive serve`` serves, and where actions may write."""

    archive: Path
    output_root: Path
    #: The catalog reference when serving a catalog version (actions make new versions).
    ref: str | None = None
    #: The name shown (the reference, or the path as given).
    name: str | None = None
    index: Path | None = None
    media_dir: Path | None = None
    download: bool = False
    pat: str | None = field(default=None, repr=False)
    home: Path | None = None
    #: A scratch folder to index the archive's own embeddings into on start (when small
    #: and no ``index`` is given); None: never.
    auto_index: Path | None = None
    limits: Limits = DEFAULT_LIMITS
    #: Extra host names accepted in the ``Host`` header (the ``--host`` given).
    hosts: tuple[str, ...] = ()
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)


def region_colour(concept_id: str) -> tuple[int, int, int]:
    """A colour per concept: the same id always gets the same, well-spread hue."""
    digest = hashlib.sha256(concept_id.encode("utf-8", "surrogatepass")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    r, g, b = colorsys.hls_to_rgb(hue, 0.5, 0.85)
    return round(r * 255), round(g * 255), round(b * 255)


def _hex(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"#{r:02x}{g:02x}{b:02x}"


# -- security ------------------------------------------------------------------------------


class _Guard:
    """Security headers on every response; the token and Origin checked on every POST."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            headers = dict(scope["headers"])
            problem = self._check(headers)
            if problem is not None:
                await _plain_json(403, {"error": problem})(scope, receive, send)
                return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _check(self, headers: dict[bytes, bytes]) -> str | None:
        given = headers.get(TOKEN_HEADER.lower().encode(), b"")
        if not given or not secrets.compare_digest(given, self.token):
            return "missing or wrong token: reload the page served by clarifai-archive serve"
        origin = headers.get(b"origin")
        if origin is not None:
            host = headers.get(b"host", b"")
            if origin not in (b"http://" + host, b"https://" + host):
                return "request from another site refused"
        return None


def _plain_json(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


# -- the app -------------------------------------------------------------------------------


class _Service:
    """The objects behind the routes."""

    def __init__(self, config: ServeConfig, browser: ArchiveBrowser | None = None) -> None:
        self.config = config
        self.browser = browser or ArchiveBrowser(
            config.archive,
            limits=config.limits,
            index=config.index,
            name=config.name or str(config.archive),
            auto_index=config.auto_index,
        )
        media_folder = MediaFolder(config.media_dir) if config.media_dir else None
        self.pictures = Pictures(
            limits=config.limits,
            media_folder=media_folder,
            download=config.download,
            pat=config.pat,
        )
        self.actions = Actions(
            source=config.archive,
            output_root=config.output_root,
            ref=config.ref,
            home=config.home,
            limits=config.limits,
            pat=config.pat,
        )

    # -- reading -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        browser = self.browser
        metrics = browser.metrics
        concepts = []
        if metrics is not None:
            for concept_id, count in sorted(
                metrics.concepts.items(), key=lambda kv: (-kv[1].inputs - kv[1].regions, kv[0])
            ):
                concepts.append(
                    {
                        "id": concept_id,
                        "name": count.name,
                        "inputs": count.inputs,
                        "regions": count.regions,
                        "negatives": count.negatives,
                        "colour": _hex(region_colour(concept_id)),
                    }
                )
        from ..convert import FORMATS

        index = browser.similarity_index()
        return {
            "name": browser.name,
            "flavour": browser.flavour,
            "entries": len(browser.entries),
            "progress": browser.progress.to_dict(),
            "rows": browser.row_count,
            "metrics": metrics.to_dict() if metrics is not None else None,
            "concepts": concepts,
            "similarity": {
                "available": index is not None,
                "inputs": len(index) if index is not None else 0,
                "error": browser.index_error,
                "built_on_start": browser.auto_index_state,
            },
            "catalog": self.config.ref is not None,
            "formats": list(FORMATS),
            "output_root": str(self.actions.output_root),
        }

    def query_rows(self, params: dict[str, list[str]]) -> tuple[Any, str]:
        """The query the parameters name: None for every row, else a running Query."""
        like = _one(params, "like")
        if like:
            hits = _int(params, "hits", DEFAULT_SIMILAR_HITS, 1, 100_000)
            return self.browser.similar(like, hits=hits), "similar"
        try:
            criteria = FilterCriteria(
                concepts=tuple(params.get("concept", [])),
                no_concepts=tuple(params.get("no_concept", [])),
                metadata=tuple(parse_metadata_filter(m) for m in params.get("metadata", [])),
                types=tuple(params.get("type", [])),
                has_regions=_one(params, "has_regions") in ("1", "true"),
            )
        except ValueError as exc:
            raise _BadRequest(str(exc)) from None
        if criteria.is_empty:
            return None, "all"
        return self.browser.query(criteria), "filter"

    def page(self, params: dict[str, list[str]]) -> dict[str, Any]:
        browser = self.browser
        page = _int(params, "page", 1, 1, 10**9)
        per_page = _int(params, "per_page", 60, 1, MAX_PER_PAGE)
        query, kind = self.query_rows(params)
        start, end = (page - 1) * per_page, page * per_page
        scores: list[float] = []
        if query is None:
            browser.wait_indexed(PAGE_WAIT_S, rows=end)
            total = browser.row_count
            complete = browser.progress.done
            rows = list(range(start, min(end, total)))
            scanned = total
            truncated = False
        else:
            query.wait(PAGE_WAIT_S, rows=end)
            total = len(query.rows)
            complete = query.complete
            rows = list(query.rows[start:end])
            scores = list(query.scores[start:end])
            scanned = query.scanned
            truncated = query.truncated
            if query.error and query.error != "stopped":
                raise ToolkitError(query.error)
        items = []
        for n, record in enumerate(browser.inputs(rows)):
            item = _card(rows[n], record)
            if scores:
                item["score"] = scores[n]
            items.append(item)
        return {
            "kind": kind,
            "page": page,
            "per_page": per_page,
            "items": items,
            "total": total,
            "complete": complete,
            "scanned": scanned,
            "truncated": truncated,
            "progress": browser.progress.to_dict(),
        }

    def all_ids(self, params: dict[str, list[str]]) -> dict[str, Any]:
        browser = self.browser
        query, kind = self.query_rows(params)
        if query is None:
            browser.require_indexed()
            return {"kind": kind, "ids": list(browser.ids), "complete": browser.progress.done}
        if not query.wait(WAIT_ALL_S):
            raise ToolkitError(
                f"still looking for matches ({query.scanned} inputs looked at); try again "
                "when the count stops growing"
            )
        ids = browser.ids_of(query.rows)
        out: dict[str, Any] = {"kind": kind, "ids": ids, "complete": query.complete}
        if query.scores:
            out["scores"] = list(query.scores)
        return out

    def detail(self, row: int) -> dict[str, Any]:
        record = self.browser.input_at(row)
        kind = input_type(record)
        info = record.data.image.image_info if kind == "image" else None
        regions = []
        if kind == "image":
            for n, region in enumerate(record.data.regions):
                regions.append(_region(row, n, region))
        out: dict[str, Any] = {
            "row": row,
            "id": record.id,
            "type": kind,
            "width": info.width if info is not None else 0,
            "height": info.height if info is not None else 0,
            "concepts": [
                {
                    "id": c.id,
                    "name": c.name,
                    "value": c.value,
                    "colour": _hex(region_colour(c.id)),
                }
                for c in record.data.concepts
            ],
            "regions": regions,
            "regions_total": sum(1 for _ in iter_regions(record)),
            "json": input_to_dict(_without_media_bytes(record)),
        }
        out["metadata"] = out["json"].get("data", {}).get("metadata", {})
        if kind == "text":
            out["text"] = record.data.text.raw
        return out

    def mask(self, row: int, number: int) -> bytes:
        record = self.browser.input_at(row)
        regions = record.data.regions
        if not 0 <= number < len(regions) or not regions[number].region_info.HasField("mask"):
            raise InputNotFoundError(f"input {record.id!r} has no mask in region {number}")
        region = regions[number]
        return self.pictures.mask(record, number, region, region_colour(_region_concept(region)))


class _BadRequest(ValueError):
    pass


def _one(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[-1]


def _int(params: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    text = _one(params, name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadRequest(f"{name} must be a whole number, not {text[:40]!r}") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be between {low} and {high}")
    return value


def _region_concept(region: Any) -> str:
    concepts = region.data.concepts
    positive = [c for c in concepts if c.value > 0]
    chosen = positive[0] if positive else (concepts[0] if len(concepts) else None)
    return chosen.id if chosen is not None else ""


def _card(row: int, record: Input) -> dict[str, Any]:
    data = record.data
    kind = input_type(record)
    concepts = [{"id": c.id, "name": c.name} for c in data.concepts if c.value > 0]
    negatives = [c.id for c in data.concepts if c.value <= 0]
    item: dict[str, Any] = {
        "row": row,
        "id": record.id,
        "type": kind,
        "concepts": concepts,
        "negatives": negatives,
        "regions": sum(1 for _ in iter_regions(record)),
    }
    if kind == "text":
        item["text"] = data.text.raw[:400]
    return item


def _region(row: int, number: int, region: Any) -> dict[str, Any]:
    info = region.region_info
    concept = _region_concept(region)
    shapes: list[dict[str, Any]] = []
    for shape in region_shapes(region):
        if shape == "bounding_box":
            box = info.bounding_box
            shapes.append(
                {
                    "kind": "box",
                    "top": box.top_row,
                    "left": box.left_col,
                    "bottom": box.bottom_row,
                    "right": box.right_col,
                }
            )
        elif shape == "polygon":
            points = [[p.col, p.row] for p in info.polygon.points]
            if len(points) >= 2:
                shapes.append({"kind": "polygon", "points": points})
        elif shape == "point":
            shapes.append({"kind": "point", "x": info.point.col, "y": info.point.row})
        elif shape == "mask":
            shapes.append({"kind": "mask", "url": f"/api/mask/{row}/{number}"})
    for point in info.keypoint_locations:
        shapes.append({"kind": "point", "x": point.col, "y": point.row})
    return {
        "number": number,
        "id": region.id,
        "concepts": [{"id": c.id, "name": c.name, "value": c.value} for c in region.data.concepts],
        "colour": _hex(region_colour(concept)),
        "shapes": shapes,
    }


def _without_media_bytes(record: Input) -> Input:
    """A copy of ``record`` with embedded media bytes (images, masks) replaced by nothing:
    the JSON view shows the annotations, not megabytes of base64."""
    copy = Input()
    copy.CopyFrom(record)
    data = copy.data
    for kind in ("image", "video", "audio"):
        if data.HasField(kind):
            getattr(data, kind).ClearField("base64")
    for region in data.regions:
        if region.region_info.HasField("mask"):
            region.region_info.mask.image.ClearField("base64")
    return copy


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _error(exc: Exception) -> JSONResponse:
    status = 404 if isinstance(exc, InputNotFoundError) else 400
    return JSONResponse({"error": redact(str(exc))}, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def _json_route(func: Callable[[Request], Any]) -> Handler:
    """A route that runs ``func`` in a worker thread and answers its result as JSON; a
    ToolkitError (or a bad parameter) is an ``{"error": ...}`` answer, never a traceback."""

    async def route(request: Request) -> Response:
        try:
            result = await run_in_threadpool(func, request)
        except (ToolkitError, _BadRequest) as exc:
            return _error(exc)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    return route


def _picture_response(data: bytes | None, media_type: str) -> Response:
    if data is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=600"})


def _row(request: Request) -> int:
    try:
        return int(request.path_params["row"])
    except ValueError:
        raise _BadRequest("bad row number") from None


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("the request body must be a JSON object")
    ids = body.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _BadRequest("ids must be a list of strings")
    return body


def create_app(config: ServeConfig, *, browser: ArchiveBrowser | None = None) -> Starlette:
    """The web app for ``config`` (its archive opened and read in the background)."""
    service = _Service(config, browser)
    static = resources.files("toolkit.serve") / "static"
    page_template = (static / "index.html").read_text(encoding="utf-8")

    async def index_page(request: Request) -> Response:
        html = page_template.replace("{{TOKEN}}", config.token)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def thumb(request: Request) -> Response:
        record = service.browser.input_at(_row(request))
        return _picture_response(service.pictures.thumbnail(record), "image/jpeg")

    def preview(request: Request) -> Response:
        record = service.browser.input_at(_row(request))
        return _picture_response(service.pictures.preview(record), "image/jpeg")

    def mask(request: Request) -> Response:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            raise _BadRequest("bad region number") from None
        return _picture_response(service.mask(_row(request), number), "image/png")

    async def action(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            body = await _body(request)
            result = await run_in_threadpool(_run_action, service, name, body)
        except (ToolkitError, _BadRequest) as exc:
            return _error(exc)
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", index_page),
        Route("/api/state", _json_route(lambda r: service.state())),
        Route("/api/inputs", _json_route(lambda r: service.page(_params(r)))),
        Route("/api/ids", _json_route(lambda r: service.all_ids(_params(r)))),
        Route("/api/input/{row}", _json_route(lambda r: service.detail(_row(r)))),
        Route("/api/thumb/{row}", _json_route(thumb)),
        Route("/api/preview/{row}", _json_route(preview)),
        Route("/api/mask/{row}/{number}", _json_route(mask)),
        Route("/api/action/{name}", action, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(static)), name="static"),
    ]
    hosts = list(LOOPBACK_HOSTS) + [h for h in config.hosts if h]
    middleware = [
        Middleware(_Guard, token=config.token),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.pictures.close()
        service.browser.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.service = service
    return app


def _run_action(service: _Service, name: str, body: dict[str, Any]) -> dict[str, Any]:
    actions = service.actions
    ids = body.get("ids", [])

    def text(key: str, default: str = "") -> str:
        return str(body.get(key) or default)

    if name == "export":
        result = actions.export(
            ids, to=text("format", "jsonl"), name=text("name"), media=text("media", "none")
        )
    elif name == "remove":
        result = actions.write_without(ids, name=text("name"))
    elif name == "filter":
        result = actions.write_only(ids, name=text("name"))
    elif name in ("version-without", "version-only"):
        service.browser.require_indexed()
        every = service.browser.ids
        if name == "version-without":
            result = actions.version_without(ids, all_ids=every)
        else:
            result = actions.version_only(ids, all_ids=every)
    elif name == "merge":
        result = actions.merge_into(
            ids, into=text("into"), on_conflict=text("on_conflict", "error")
        )
    else:
        raise _BadRequest(f"unknown action {name!r}")
    return result.to_dict()
