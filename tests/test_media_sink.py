"""MediaSink in embedded mode: bytes from the archive, real extensions, --png, resuming."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from helpers import make_input
from media_helpers import all_names, embedded_input, hosted_input, image_bytes, url_input
from PIL import Image

from toolkit.archive import ArchiveReader
from toolkit.errors import OutputError
from toolkit.limits import Limits
from toolkit.media import FileNamer, MediaReport, MediaSink, sniff_extension
from toolkit.messages import Input


def run_sink(folder: Path, records: list[Input], **options: object) -> tuple[list, MediaReport]:
    options.setdefault("mode", "embedded")
    with MediaSink(folder, **options) as sink:  # type: ignore[arg-type]
        names = [sink.submit(r) for r in records]
        report = sink.close()
    return names, report


def test_sample_archive_keeps_original_bytes_and_real_extensions(
    sample_archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "media"
    with ArchiveReader(sample_archive) as reader:
        records = list(reader.iter_inputs())
    names, report = run_sink(out, records)
    assert report == MediaReport(written=31, bytes_written=report.bytes_written)
    assert report.ok
    for record, name in zip(records, names, strict=True):
        if record.id.startswith("txt"):
            assert name == f"{record.id}.txt"
            assert (out / name).read_text(encoding="utf-8") == record.data.text.raw
            continue
        data = bytes(record.data.image.base64)
        assert (out / name).read_bytes() == data
        assert name == f"{record.id}.{sniff_extension(data)}"
    assert {n.rsplit(".", 1)[1] for n in names} == {"png", "jpg", "txt"}
    assert report.bytes_written == sum((out / n).stat().st_size for n in names)
    assert all_names(out) == sorted(names)


def test_declared_format_does_not_override_the_bytes(tmp_path: Path) -> None:
    record = embedded_input("a", image_bytes(fmt="JPEG"))
    record.data.image.image_info.format = "PNG"
    names, _ = run_sink(tmp_path, [record])
    assert names == ["a.jpg"]


def test_unknown_bytes_fall_back_to_the_declared_format(tmp_path: Path) -> None:
    record = embedded_input("a", b"\x00\x01\x02 not a known format")
    record.data.image.image_info.format = "jpeg"
    blob = embedded_input("b", b"\x00\x01\x02")
    names, report = run_sink(tmp_path, [record, blob])
    assert names == ["a.jpg", "b.jpg"]
    assert report.written == 2 and report.ok


def test_video_and_audio_bytes(tmp_path: Path) -> None:
    mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + b"\x00" * 64
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40
    names, report = run_sink(
        tmp_path,
        [embedded_input("v", mp4, kind="video"), embedded_input("s", wav, kind="audio")],
    )
    assert names == ["v.mp4", "s.wav"]
    assert (tmp_path / "v.mp4").read_bytes() == mp4
    assert report.written == 2


def test_url_only_and_media_less_inputs_are_skipped_and_reported(tmp_path: Path) -> None:
    records = [
        embedded_input("keep", image_bytes()),
        hosted_input("hosted", "https://data.clarifai.com", "users/u/x"),
        url_input("plain", "https://example.com/a.jpg"),
        Input(id="empty"),
        hosted_input("video", "https://data.clarifai.com", "users/u/v", kind="video"),
    ]
    records[3].data.concepts.add(id="c", value=1.0)
    names, report = run_sink(tmp_path, records)
    assert names == ["keep.png", None, None, None, None]
    assert report.written == 1
    assert report.skipped == 4
    assert report.skipped_ids == ["hosted", "plain", "empty", "video"]
    assert "only a hosted copy" in report.skip_reasons["hosted"]
    assert "--media download" in report.skip_reasons["hosted"]
    assert "only a URL" in report.skip_reasons["plain"]
    assert report.skip_reasons["empty"] == "no media in the input"
    assert "video" in report.skip_reasons["video"]
    assert all_names(tmp_path) == ["keep.png"]


def test_png_reencodes_like_the_sdk(tmp_path: Path) -> None:
    jpeg = image_bytes(3, fmt="JPEG", size=(20, 10))
    cmyk = io.BytesIO()
    Image.new("CMYK", (5, 4), (1, 2, 3, 4)).save(cmyk, "JPEG")
    names, report = run_sink(
        tmp_path,
        [
            embedded_input("j", jpeg),
            embedded_input("c", cmyk.getvalue()),
            embedded_input("t", b"hello", kind="text"),
        ],
        png=True,
    )
    assert names == ["j.png", "c.png", "t.txt"]
    assert report.written == 3 and report.ok
    with Image.open(tmp_path / "j.png") as image:
        assert image.format == "PNG" and image.size == (20, 10)
        # Same pixels as pillow's own decode of the JPEG (the SDK's path).
        with Image.open(io.BytesIO(jpeg)) as source:
            assert image.tobytes() == source.convert(image.mode).tobytes()
    with Image.open(tmp_path / "c.png") as image:
        assert image.mode == "RGB"
    assert (tmp_path / "t.txt").read_bytes() == b"hello"


def test_png_reports_bytes_that_are_not_an_image(tmp_path: Path) -> None:
    names, report = run_sink(tmp_path, [embedded_input("bad", b"<html>nope</html>")], png=True)
    assert names == ["bad.png"]
    assert report.written == 0
    assert "not an image" in report.failed["bad"]
    assert all_names(tmp_path) == []


def test_png_pixel_limit_is_the_decompression_bomb_check(tmp_path: Path) -> None:
    big = image_bytes(size=(40, 30))
    names, report = run_sink(
        tmp_path, [embedded_input("big", big)], png=True, limits=Limits(max_image_pixels=1000)
    )
    assert "image too large: 40x30 pixels" in report.failed["big"]
    assert all_names(tmp_path) == []


def test_hostile_ids_stay_inside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "media"
    ids = ["../../etc/passwd", "a/b", "NUL\x00x", "x" * 1000, "A", "a", ".", "..", "-x"]
    records = [embedded_input(i, image_bytes(n)) for n, i in enumerate(ids)]
    names, report = run_sink(out, records)
    assert report.written == len(ids)
    assert len({n.casefold() for n in names}) == len(ids)
    assert all_names(out) == sorted(names)
    assert all_names(tmp_path) == ["deep"]
    assert all_names(tmp_path / "deep") == ["media"]
    for name, n in zip(names, range(len(ids)), strict=True):
        assert (out / name).read_bytes() == image_bytes(n)


def test_a_shared_namer_gives_annotation_files_the_same_stem(tmp_path: Path) -> None:
    namer = FileNamer()
    with MediaSink(tmp_path, mode="embedded", namer=namer) as sink:
        name = sink.submit(embedded_input("a/b", image_bytes()))
    assert name == namer.name_for("a/b", "png")
    assert namer.name_for("a/b", "json").rsplit(".", 1)[0] == name.rsplit(".", 1)[0]


def test_rerun_reuses_finished_files_and_replaces_changed_ones(tmp_path: Path) -> None:
    records = [embedded_input(f"i{n}", image_bytes(n)) for n in range(6)]
    _, first = run_sink(tmp_path, records)
    assert first.written == 6
    # A truncated file (e.g. from another tool) is not trusted: its size differs.
    (tmp_path / "i2.png").write_bytes(b"\x89PNG")
    _, second = run_sink(tmp_path, records)
    assert (second.written, second.reused) == (1, 5)
    assert (tmp_path / "i2.png").read_bytes() == image_bytes(2)
    # Switching to --png replaces the originals instead of leaving both.
    jpeg_records = [embedded_input("j", image_bytes(9, fmt="JPEG"))]
    run_sink(tmp_path, jpeg_records)
    assert "j.jpg" in all_names(tmp_path)
    _, third = run_sink(tmp_path, jpeg_records, png=True)
    assert third.written == 1
    assert "j.jpg" not in all_names(tmp_path) and "j.png" in all_names(tmp_path)


def test_stale_temporary_files_are_removed_and_never_reused(tmp_path: Path) -> None:
    stale = tmp_path / ".i0.part-12345-deadbeef"
    stale.write_bytes(b"half")
    mine = tmp_path / ".keep-me"
    mine.write_bytes(b"not ours")
    _, report = run_sink(tmp_path, [embedded_input("i0", image_bytes())])
    assert report.written == 1
    assert all_names(tmp_path) == [".keep-me", "i0.png"]


def test_on_done_counts_every_input_in_the_callers_thread(tmp_path: Path) -> None:
    calls: list[tuple[int, str]] = []
    records = [embedded_input(f"i{n}", image_bytes(n)) for n in range(20)]
    records.append(url_input("u", "https://example.com/x.png"))
    _names, report = run_sink(
        tmp_path,
        records,
        jobs=3,
        on_done=lambda n: calls.append((n, threading.current_thread().name)),
    )
    assert sum(n for n, _ in calls) == 21
    assert {name for _, name in calls} == {threading.current_thread().name}
    assert report.written == 20 and report.skipped == 1


def test_close_is_idempotent_and_submit_after_close_is_refused(tmp_path: Path) -> None:
    sink = MediaSink(tmp_path, mode="embedded")
    sink.submit(make_input("a", image_bytes=image_bytes()))
    first = sink.close()
    assert sink.close() is first is sink.report
    with pytest.raises(RuntimeError, match="closed"):
        sink.submit(make_input("b", image_bytes=image_bytes()))


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="mode"):
        MediaSink(Path("x"), mode="none")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="jobs"):
        MediaSink(Path("x"), mode="embedded", jobs=0)


def test_an_unusable_folder_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OutputError, match="cannot use it as the media folder"):
        MediaSink(blocker / "media", mode="embedded")


def test_a_write_failure_stops_the_run_with_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = Path.write_bytes

    def full_disk(self: Path, data: bytes) -> int:
        if self.name.startswith(".i3."):
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    records = [embedded_input(f"i{n}", image_bytes(n)) for n in range(8)]
    with pytest.raises(OutputError, match=r"input 'i3' \(No space left on device\)"):
        run_sink(tmp_path, records, jobs=1)
    # Nothing partial: only complete files are left.
    for name in all_names(tmp_path):
        assert not name.startswith(".")
        n = int(name[1])
        assert (tmp_path / name).read_bytes() == image_bytes(n)


def test_an_exception_in_the_with_block_aborts_and_keeps_finished_files(tmp_path: Path) -> None:
    records = [embedded_input(f"i{n}", image_bytes(n)) for n in range(5)]
    with pytest.raises(KeyboardInterrupt), MediaSink(tmp_path, mode="embedded", jobs=1) as sink:
        for record in records:
            sink.submit(record)
        raise KeyboardInterrupt
    assert sink.report is not None
    for name in all_names(tmp_path):
        assert not name.startswith(".")
