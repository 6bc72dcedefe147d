"""Benchmark ``--media download`` against the Clarifai SDK's ``Dataset.export`` (issue 3).

Both download the same archive's hosted copies from the same local server, which answers
each request after a fixed latency (default 50 ms) and requires the key, as
``{prefix}/orig/{suffix}`` does on Clarifai. The SDK runs offline: ``Dataset(...)`` is
made with a fake key and ``export(save_path, local_archive_path=...)`` reads the local
archive; its hosted prefix points at the local server.

Ours is ``clarifai-archive convert --to sdk --media download`` (in process) when the
convert command exists, else a bare :class:`toolkit.media.MediaSink` loop. Each timed run
starts from an empty output. Figures are medians of ``--runs`` runs; the ratio is
SDK time / our time in the same run (target: >= 10x against ``Dataset.export``).

Usage: python bench/bench_download.py [--inputs 300] [--latency 0.05] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from media_server import MediaServer  # noqa: E402
from PIL import Image  # noqa: E402

from toolkit.archive import ArchiveReader, write_archive  # noqa: E402
from toolkit.media import MediaSink  # noqa: E402
from toolkit.messages import Input  # noqa: E402

DATA = ROOT / "bench" / "_data" / "download"
KEY = "bench-fake-key-0123456789"


def make_images(count: int, size: tuple[int, int], seed: int = 0) -> list[bytes]:
    """``count`` different photo-like images (smooth colour fields plus noise), 2/3 JPEG."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    images = []
    for n in range(count):
        a, b, c = rng.uniform(0.005, 0.05, 3)
        base = np.stack(
            [
                127 + 100 * np.sin(xx * a + n),
                127 + 100 * np.cos(yy * b + n / 3),
                127 + 100 * np.sin((xx + yy) * c),
            ],
            axis=-1,
        )
        noisy = base + rng.normal(0, 5, base.shape)
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")
        out = io.BytesIO()
        if n % 3 == 2:
            image.save(out, "PNG")
        else:
            image.save(out, "JPEG", quality=90)
        images.append(out.getvalue())
    return images


def make_archive(path: Path, prefix: str, count: int, size: tuple[int, int]) -> None:
    """A hosted-copy archive like Clarifai's: concepts, a box each, no media bytes."""
    records = []
    width, height = size
    for n in range(count):
        record = Input(id=f"img-{n:05d}")
        image = record.data.image
        image.hosted.prefix = prefix
        image.hosted.suffix = f"users/bench/apps/demo/inputs/image/{n:040x}"
        image.hosted.sizes.extend(["orig", "tiny", "small", "large"])
        image.image_info.width, image.image_info.height = width, height
        record.data.concepts.add(id="thing", name="Thing", value=1.0)
        region = record.data.regions.add(id=f"r{n}", value=1.0)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = 0.1, 0.2, 0.6, 0.7
        region.data.concepts.add(id="thing", name="Thing", value=1.0)
        records.append(record)
    write_archive(path, records, batch_size=128)


def run_sdk(archive: Path, out: Path, workers: int) -> int:
    from clarifai.client.dataset import Dataset

    dataset = Dataset(user_id="bench", app_id="demo", dataset_id="d", pat=KEY)
    dataset.export(save_path=str(out), local_archive_path=str(archive), num_workers=workers)
    with zipfile.ZipFile(out) as zf:
        return sum(1 for name in zf.namelist() if "/inputs/" in name)


def run_ours(archive: Path, out: Path, jobs: int | None, png: bool = False) -> int:
    from toolkit.cli import cli

    if "convert" in cli.commands:
        os.environ["CLARIFAI_PAT"] = KEY
        args = ["-q", "convert", str(archive), "--to", "sdk", "--media", "download"]
        args += (["--jobs", str(jobs)] if jobs else []) + ["-o", str(out)]
        args += ["--png"] if png else []
        cli.main(args, prog_name="clarifai-archive", standalone_mode=False)
        with zipfile.ZipFile(out) as zf:
            return sum(1 for name in zf.namelist() if "/inputs/" in name)
    with (
        ArchiveReader(archive) as reader,
        MediaSink(out, mode="download", pat=KEY, jobs=jobs) as sink,
    ):
        for record in reader.iter_inputs():
            sink.submit(record)
        report = sink.close()
    if report.failed:
        raise SystemExit(f"downloads failed: {dict(list(report.failed.items())[:3])}")
    return report.written


def timed(fn, *args) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    files = fn(*args)
    return time.perf_counter() - start, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--size", default="640x480", help="image size WxH")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--jobs", type=int, default=None, help="our --jobs (default: the command's, 64)"
    )
    parser.add_argument(
        "--sdk-workers",
        default="4,10",
        help="Dataset.export num_workers values to time (4 is its default, 10 its maximum)",
    )
    parser.add_argument(
        "--png", action="store_true", help="also time ours with --png (re-encoding like the SDK)"
    )
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    sdk_workers = [int(v) for v in args.sdk_workers.split(",")]
    import clarifai.utils.logging  # noqa: F401 - sets its logger's level on import

    logging.getLogger("clarifai").setLevel(logging.ERROR)

    DATA.mkdir(parents=True, exist_ok=True)
    images = make_images(args.inputs, size)  # type: ignore[arg-type]
    megabytes = sum(map(len, images)) / 1e6
    with MediaServer(key=KEY, latency=args.latency) as server:
        for n, data in enumerate(images):
            server.add(f"/orig/users/bench/apps/demo/inputs/image/{n:040x}", data)
        archive = DATA / "hosted.zip"
        make_archive(archive, server.origin, args.inputs, size)  # type: ignore[arg-type]
        ours_how = "convert --to sdk" if _has_convert() else "MediaSink"
        print(
            f"{args.inputs} hosted images ({megabytes:.1f} MB, {args.size}), "
            f"{args.latency * 1000:.0f} ms latency per request, {args.runs} runs each; "
            f"ours: {ours_how} --media download --jobs {args.jobs or 'default (64)'}"
        )
        times: dict[str, list[float]] = {f"sdk{w}": [] for w in sdk_workers}
        times["ours"] = []
        times["ours-png"] = []
        for run in range(args.runs):
            for workers in sdk_workers:
                out = DATA / f"sdk-{run}-{workers}.zip"
                out.unlink(missing_ok=True)
                seconds, files = timed(run_sdk, archive, out, workers)
                assert files == args.inputs, f"SDK wrote {files} of {args.inputs}"
                times[f"sdk{workers}"].append(seconds)
                out.unlink()
            out = DATA / f"ours-{run}.zip"
            _remove(out)
            seconds, files = timed(run_ours, archive, out, args.jobs)
            assert files == args.inputs, f"ours wrote {files} of {args.inputs}"
            times["ours"].append(seconds)
            _remove(out)
            if args.png:
                seconds, files = timed(run_ours, archive, out, args.jobs, True)
                assert files == args.inputs, f"ours --png wrote {files} of {args.inputs}"
                times["ours-png"].append(seconds)
                _remove(out)
    ours = statistics.median(times["ours"])
    label = args.jobs or "default"
    print(f"  ours (jobs={label}): {ours:7.2f} s  ({args.inputs / ours:6.0f} inputs/s)")
    ours_png = statistics.median(times["ours-png"]) if args.png else None
    if ours_png is not None:
        print(f"  ours --png:        {ours_png:7.2f} s  ({args.inputs / ours_png:6.0f} inputs/s)")
    for workers in sdk_workers:
        sdk = statistics.median(times[f"sdk{workers}"])
        line = (
            f"  SDK Dataset.export (num_workers={workers}): {sdk:7.2f} s "
            f"({args.inputs / sdk:6.0f} inputs/s)  ratio SDK/ours: {sdk / ours:5.1f}x"
        )
        if ours_png is not None:
            line += f", SDK/ours --png: {sdk / ours_png:5.1f}x"
        print(line)
    archive.unlink(missing_ok=True)


def _remove(out: Path) -> None:
    if out.is_dir():
        shutil.rmtree(out)
    out.unlink(missing_ok=True)


def _has_convert() -> bool:
    from toolkit.cli import cli

    return "convert" in cli.commands


if __name__ == "__main__":
    main()
