"""Benchmark ``clarifai-archive serve`` (issue 17 targets), over real HTTP (uvicorn + httpx).

1. First grid page after start (target: < 1 s for 1,000,000 inputs): from ``create_app`` to
   the answer of ``GET /api/inputs?page=1``, fresh server each run; beside it, in the same
   run, the floor (open the archive, read its first batch entry) and ``inputs list --page 1``
   (``list_inputs``).
2. Further pages (target: < 150 ms each): random pages once the rows are indexed, and pages
   asked for while the background reading runs; beside them, a deep page the way
   ``inputs list --page N`` reads it (a scan from the start).
3. Thumbnails: first fetch (decoded and encoded with Pillow) against a cached fetch.
4. The background reading: seconds to index every row.

Usage: python bench/bench_serve.py [--inputs 200000] [--runs 5] [--per-page 60]
(--inputs 1000000 for the issue's size). Archives are generated (seeded) under bench/_data/.
"""

from __future__ import annotations

import argparse
import io
import random
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpcore  # noqa: E402, F401 - the client's own imports are not the server's time
import httpx  # noqa: E402
import uvicorn  # noqa: E402
from PIL import Image  # noqa: E402

from toolkit._wire import encode_field as _field  # noqa: E402
from toolkit.archive import ArchiveReader, ArchiveWriter  # noqa: E402
from toolkit.inputs import list_inputs  # noqa: E402
from toolkit.serve.app import ServeConfig, create_app  # noqa: E402

DATA = ROOT / "bench" / "_data"


def _png(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 72), (rng.randrange(256), rng.randrange(256), 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_archive(path: Path, count: int) -> Path:
    """``count`` image inputs with embedded 96x72 PNGs (8 kinds), two concepts and a box."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    one = b"\x1d\x00\x00\x80\x3f"  # Concept.value = 1.0
    images = [_field(1, _field(2, _png(k))) for k in range(8)]
    concepts = [
        _field(3, _field(1, name.encode()) + _field(2, name.title().encode()) + one)
        for name in ("cat", "dog", "tree")
    ]
    box = _field(
        11, _field(2, _field(1, b"\x0d\xcd\xcc\xcc\x3d\x1d\x00\x00\x00\x3f"))
    )  # top 0.1, bottom 0.5
    with ArchiveWriter(path, batch_size=128) as writer:
        for i in range(count):
            data = images[i % 8] + concepts[i % 2] + concepts[2] + (box if i % 3 else b"")
            writer.add_serialized(_field(1, f"in-{i:07d}".encode()) + _field(2, data))
    return path


def make_photo_archive(path: Path, count: int = 60) -> Path:
    """``count`` inputs with 1600x1200 noisy JPEGs (camera-sized), for the thumbnail timing."""
    if path.exists():
        return path
    import numpy as np

    rng = np.random.default_rng(1)
    with ArchiveWriter(path, batch_size=16) as writer:
        for i in range(count):
            pixels = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)
            image = Image.fromarray(pixels).resize((1600, 1200), Image.Resampling.BILINEAR)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90)
            data = _field(1, _field(2, out.getvalue()))
            writer.add_serialized(_field(1, f"photo-{i:04d}".encode()) + _field(2, data))
    return path


class Server:
    """The app on a free loopback port, in a thread."""

    def __init__(self, archive: Path) -> None:
        self.started_at = time.perf_counter()
        self.app = create_app(ServeConfig(archive=archive, output_root=DATA / "serve-out"))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the CLI does
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.001)
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def get(self, path: str, **params: object) -> tuple[float, httpx.Response]:
        start = time.perf_counter()
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return time.perf_counter() - start, response

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-page", type=int, default=60)
    parser.add_argument("--pages", type=int, default=30, help="random pages timed")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0.001,
        help="sys.setswitchinterval while serving (the CLI sets 0.001; Python's default 0.005)",
    )
    args = parser.parse_args()
    sys.setswitchinterval(args.switch_interval)
    archive = make_archive(DATA / f"serve-{args.inputs}.zip", args.inputs)
    (DATA / "serve-out").mkdir(parents=True, exist_ok=True)
    size = archive.stat().st_size / 1e6
    print(f"archive: {archive} ({args.inputs} inputs, {size:.0f} MB)")

    # 1. first page after start, fresh server each run
    firsts, floors, listed = [], [], []
    for _ in range(args.runs):
        server = Server(archive)
        _, response = server.get("/api/inputs", page=1, per_page=args.per_page)
        firsts.append(time.perf_counter() - server.started_at)
        assert len(response.json()["items"]) == args.per_page
        server.close()
        start = time.perf_counter()
        with ArchiveReader(archive) as reader:
            reader.read_batch(reader.entries[0])
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        with ArchiveReader(archive) as reader:
            list_inputs(reader.iter_inputs(), page=1, per_page=args.per_page)
        listed.append(time.perf_counter() - start)
    first = statistics.median(firsts)
    print("1. first page after start (median of", args.runs, "fresh starts)")
    print(f"   serve: start -> page 1       {ms(first)}   (target < 1000 ms)")
    print(f"   floor: open + read 1 entry   {ms(statistics.median(floors))}")
    print(f"   inputs list --page 1         {ms(statistics.median(listed))}")

    # 2. further pages: while the rows are being read, then once all are
    server = Server(archive)
    rng = random.Random(0)
    during = []
    page = 2
    while not server.app.state.service.browser.progress.done and len(during) < args.pages:
        elapsed, _ = server.get("/api/inputs", page=page, per_page=args.per_page)
        during.append(elapsed)
        page += 1
    server.app.state.service.browser.wait_indexed()
    index_seconds = server.app.state.service.browser.progress.seconds
    pages = args.inputs // args.per_page
    after = [
        server.get("/api/inputs", page=rng.randrange(1, pages + 1), per_page=args.per_page)[0]
        for _ in range(args.pages)
    ]
    deep = pages - 1
    start = time.perf_counter()
    with ArchiveReader(archive) as reader:
        list_inputs(reader.iter_inputs(), page=deep, per_page=args.per_page)
    deep_list = time.perf_counter() - start
    print("2. further pages")
    if during:
        print(
            f"   while reading ({len(during)} pages): median {ms(statistics.median(during))}, "
            f"max {ms(max(during))}"
        )
    after_med = statistics.median(after)
    after_p95 = sorted(after)[int(0.95 * (len(after) - 1))]
    print(
        f"   random pages ({len(after)}): median {ms(after_med)}, p95 {ms(after_p95)}, "
        f"max {ms(max(after))}   (target < 150 ms)"
    )
    print(
        f"   inputs list --page {deep} (a scan): {ms(deep_list)}  "
        f"-> {deep_list / after_med:.0f}x the served page"
    )

    # 3. thumbnails, of camera-sized JPEGs (a separate small archive)
    photos = Server(make_photo_archive(DATA / "serve-photos.zip"))
    photos.app.state.service.browser.wait_indexed()
    rows = range(20)
    cold = [photos.get(f"/api/thumb/{row}")[0] for row in rows]
    warm = [photos.get(f"/api/thumb/{row}")[0] for row in rows]
    photos.close()
    cold_med, warm_med = statistics.median(cold), statistics.median(warm)
    print("3. thumbnails of 1600x1200 JPEGs (20 inputs)")
    print(
        f"   first fetch (decode + encode) median {ms(cold_med)}, cached median {ms(warm_med)}"
        f" -> {cold_med / warm_med:.1f}x"
    )

    # 4. the background reading
    print("4. background reading of every row")
    print(
        f"   {index_seconds:.1f} s for {args.inputs} inputs "
        f"({args.inputs / max(index_seconds, 1e-9):,.0f} inputs/s)"
    )
    server.close()


if __name__ == "__main__":
    main()
