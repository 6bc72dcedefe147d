"""MediaSink in download mode against a local server: keys, retries, timeouts, resuming."""

from __future__ import annotations

import io
import logging
import random
import threading
from pathlib import Path

import pytest
from media_helpers import (
    KEY,
    all_names,
    embedded_input,
    hosted_input,
    image_bytes,
    served_url_inputs,
    url_input,
    wait_until,
)
from media_server import MediaServer
from PIL import Image

from toolkit.media import MediaReport, MediaSink
from toolkit.media._http import Fetcher, FetchError, FetchPolicy, _retry_after
from toolkit.messages import Input

FAST = {"backoff": 0.01, "max_backoff": 0.05, "seed": 7}


def download(folder: Path, records: list[Input], **options: object) -> tuple[list, MediaReport]:
    options = {"mode": "download", "pat": KEY, **FAST, **options}
    with MediaSink(folder, **options) as sink:  # type: ignore[arg-type]
        names = [sink.submit(r) for r in records]
        report = sink.close()
    return names, report


@pytest.fixture(name="server")
def _server():
    with MediaServer(key=KEY) as server:
        yield server


@pytest.fixture(name="other")
def _other():
    """A second server: another origin (same address, other port), no key required."""
    with MediaServer() as server:
        yield server


# -- where the key goes ------------------------------------------------------------


def test_hosted_copy_is_fetched_with_the_key(server: MediaServer, tmp_path: Path) -> None:
    server.add("/orig/users/u/apps/a/inputs/image/abc", image_bytes(1))
    record = hosted_input("a", server.origin, "users/u/apps/a/inputs/image/abc", fmt="PNG")
    names, report = download(tmp_path, [record])
    assert names == ["a.png"]
    assert report == MediaReport(written=1, bytes_written=len(image_bytes(1)))
    assert (tmp_path / "a.png").read_bytes() == image_bytes(1)
    (request,) = server.requests
    assert request.path == "/orig/users/u/apps/a/inputs/image/abc"
    assert request.header("Authorization") == f"Key {KEY}"


def test_plain_urls_never_get_the_key(server: MediaServer, other: MediaServer, tmp_path: Path):
    other.add("/pic.jpg", image_bytes(2, fmt="JPEG"))
    server.add("/public.png", image_bytes(3), key=None)
    records = [url_input("u1", other.url("/pic.jpg")), url_input("u2", server.url("/public.png"))]
    names, report = download(tmp_path, records)
    assert names == ["u1.jpg", "u2.png"]  # provisional names from the URLs' extensions
    assert report.written == 2 and not report.renamed
    # Not even to the host that serves the hosted copies.
    assert [r.header("Authorization") for r in other.requests + server.requests] == [None, None]


def test_key_is_not_sent_across_a_redirect_to_another_host(
    server: MediaServer, other: MediaServer, tmp_path: Path
) -> None:
    other.add("/cdn/a", image_bytes(4))
    server.add("/orig/away", redirect=other.url("/cdn/a"))
    # Same server under another host name: another origin too.
    server.add("/alias.png", image_bytes(5), key=None)
    server.add("/orig/alias", redirect=server.url("/alias.png", host="localhost"))
    records = [
        hosted_input("away", server.origin, "away"),
        hosted_input("alias", server.origin, "alias"),
    ]
    _names, report = download(tmp_path, records)
    assert report.written == 2 and report.ok
    assert (tmp_path / "away.png").read_bytes() == image_bytes(4)
    assert other.requests[0].header("Authorization") is None
    assert server.requests_for("/orig/away")[0].header("Authorization") == f"Key {KEY}"
    (alias,) = server.requests_for("/alias.png")
    assert alias.header("Host") == f"localhost:{server.port}"
    assert alias.header("Authorization") is None


def test_key_follows_a_redirect_within_the_same_origin(server: MediaServer, tmp_path: Path):
    server.add("/orig/old", redirect="/moved/new", redirect_status=301)
    server.add("/moved/new", image_bytes(6))  # requires the key
    _names, report = download(tmp_path, [hosted_input("m", server.origin, "old")])
    assert report.ok, report.failed
    assert server.requests_for("/moved/new")[0].header("Authorization") == f"Key {KEY}"


def test_a_redirect_to_another_host_that_wants_the_key_fails_without_leaking_it(
    server: MediaServer, tmp_path: Path
) -> None:
    with MediaServer(key=KEY) as greedy:
        greedy.add("/steal", image_bytes())
        server.add("/orig/x", redirect=greedy.url("/steal"))
        _names, report = download(tmp_path, [hosted_input("x", server.origin, "x")])
    assert report.failed["x"].startswith(f"HTTP 401 Unauthorized from 127.0.0.1:{greedy.port}")
    assert "the key was not sent to this host" in report.failed["x"]
    assert greedy.requests[0].header("Authorization") is None
    assert all_names(tmp_path) == []


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("http://data.clarifai.com", "only sent over https"),
        ("https://evil.example.com", "evil.example.com, which is not one of clarifai.com"),
        ("https://clarifai.com.evil.net", "not one of clarifai.com"),
        ("ftp://data.clarifai.com", "bad URL scheme 'ftp'"),
    ],
)
def test_hosted_copies_on_untrusted_hosts_are_refused_before_any_request(
    prefix: str, reason: str, tmp_path: Path
) -> None:
    names, report = download(tmp_path, [hosted_input("h", prefix, "users/u/x")])
    assert names == ["h.jpg"]
    assert reason in report.failed["h"]
    assert report.failed["h"].startswith(("bad host", "bad URL"))
    assert all_names(tmp_path) == []


def test_key_hosts_and_their_subdomains_pass_the_check() -> None:
    fetcher = Fetcher(FetchPolicy(key_hosts=("clarifai.com", "example.org")), pat=KEY)
    assert fetcher._key_origin("https://data.clarifai.com/orig/x") == (
        "https",
        "data.clarifai.com",
        443,
    )
    assert fetcher._key_origin("https://example.org:8443/orig/x")[2] == 8443
    assert fetcher._key_origin("http://localhost:9/orig/x")[0] == "http"
    assert fetcher._key_origin("http://[::1]:9/orig/x")[1] == "::1"
    with pytest.raises(FetchError, match="not one of"):
        fetcher._key_origin("https://notclarifai.com/orig/x")
    assert KEY not in repr(fetcher)


def test_hosted_copy_without_a_key_fails_without_a_request(
    server: MediaServer, tmp_path: Path
) -> None:
    server.add("/orig/x", image_bytes())
    _names, report = download(tmp_path, [hosted_input("x", server.origin, "x")], pat=None)
    assert "needs a key" in report.failed["x"]
    assert "CLARIFAI_PAT" in report.failed["x"]
    assert server.requests == []


def test_wrong_key_is_reported_as_401(server: MediaServer, tmp_path: Path) -> None:
    server.add("/orig/x", image_bytes())
    _names, report = download(tmp_path, [hosted_input("x", server.origin, "x")], pat="wrong")
    assert report.failed == {
        "x": f"HTTP 401 Unauthorized from 127.0.0.1:{server.port} (check the key: CLARIFAI_PAT)"
    }
    assert server.hits("/orig/x") == 1  # a 401 is not retried


def test_the_key_never_appears_in_reports_logs_or_reprs(
    server: MediaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.add(f"/orig/{KEY}", b"<html>login</html>")
    records = [
        hosted_input("a", server.origin, KEY),
        url_input("b", server.url(f"/{KEY}/missing.png")),
        hosted_input("c", server.origin, "gone"),
    ]
    with MediaSink(tmp_path, mode="download", pat=KEY, **FAST) as sink:  # type: ignore[arg-type]
        for record in records:
            sink.submit(record)
        report = sink.close()
        assert KEY not in repr(sink)
    assert len(report.failed) == 3
    assert KEY not in repr(report)
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        assert KEY.encode() not in path.read_bytes()


# -- retries, backoff, timeouts ------------------------------------------------------


def test_retries_on_429_and_5xx_then_succeeds(server: MediaServer, tmp_path: Path) -> None:
    server.add("/orig/flaky", image_bytes(7), fail=[500, 503, 429, 502])
    _names, report = download(tmp_path, [hosted_input("f", server.origin, "flaky")])
    assert report.ok, report.failed
    assert server.hits("/orig/flaky") == 5
    assert (tmp_path / "f.png").read_bytes() == image_bytes(7)
    assert all(r.header("Authorization") == f"Key {KEY}" for r in server.requests)


def test_gives_up_after_the_retries_and_says_how_often_it_tried(
    server: MediaServer, tmp_path: Path
) -> None:
    server.add("/orig/down", image_bytes(), fail=[503] * 10)
    _names, report = download(tmp_path, [hosted_input("d", server.origin, "down")], retries=2)
    assert report.failed == {
        "d": f"HTTP 503 Service Unavailable from 127.0.0.1:{server.port} (3 tries)"
    }
    assert server.hits("/orig/down") == 3
    assert all_names(tmp_path) == []


def test_other_client_errors_are_not_retried(server: MediaServer, tmp_path: Path) -> None:
    server.add("/orig/forbidden", image_bytes(), fail=[403])
    records = [
        hosted_input("n", server.origin, "nope"),
        hosted_input("f", server.origin, "forbidden"),
    ]
    _names, report = download(tmp_path, records)
    assert report.failed["n"] == f"HTTP 404 Not Found from 127.0.0.1:{server.port}"
    assert report.failed["f"].startswith("HTTP 403 Forbidden")
    assert server.hits("/nope") + server.hits("/orig/nope") == 1
    assert server.hits("/orig/forbidden") == 1


class _RecordingStop(threading.Event):
    """A stop event whose waits return at once and are remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return False


def _backoffs(server: MediaServer, seed: int, **policy: object) -> list[float]:
    stop = _RecordingStop()
    fetcher = Fetcher(
        FetchPolicy(**policy),  # type: ignore[arg-type]
        pat=None,
        rng=random.Random(seed),
        stop=stop,
    )
    with pytest.raises(FetchError, match=r"\(7 tries\)"):
        fetcher.fetch(server.url("/always-500"), io.BytesIO())
    fetcher.close()
    return stop.waits


def test_backoff_doubles_with_jitter_and_a_cap(server: MediaServer) -> None:
    server.add("/always-500", b"", fail=[500] * 100, key=None)
    waits = _backoffs(server, 1, retries=6, backoff=0.1, max_backoff=1.0)
    assert len(waits) == 6
    for n, wait in enumerate(waits):
        nominal = min(0.1 * 2**n, 1.0)
        assert 0.5 * nominal <= wait <= 1.5 * nominal
    assert waits == _backoffs(server, 1, retries=6, backoff=0.1, max_backoff=1.0)
    assert waits != _backoffs(server, 2, retries=6, backoff=0.1, max_backoff=1.0)


def test_retry_after_is_honoured(server: MediaServer) -> None:
    server.add("/busy", image_bytes(), fail=[429], retry_after="1", key=None)
    stop = _RecordingStop()
    fetcher = Fetcher(FetchPolicy(), pat=None, rng=random.Random(1), stop=stop)
    body = io.BytesIO()
    fetcher.fetch(server.url("/busy"), body)
    fetcher.close()
    assert stop.waits == [1.0]  # the server's second, not the 0.5 s backoff with jitter
    assert body.getvalue() == image_bytes()
    assert server.hits("/busy") == 2


def test_retry_after_replaces_the_backoff_within_a_cap(server: MediaServer) -> None:
    server.add("/always-500", b"", fail=[503] * 100, retry_after="7", key=None)
    assert _backoffs(server, 1, retries=6, backoff=0.1) == [7.0] * 6
    assert _backoffs(server, 1, retries=6, max_retry_after=2.0) == [2.0] * 6


def test_retry_after_forms() -> None:
    assert _retry_after("3", 60) == 3.0
    assert _retry_after("999", 60) == 60
    assert _retry_after("-5", 60) == 0.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) == 0.0  # in the past
    assert _retry_after("soon", 60) is None
    assert _retry_after(None, 60) is None


def test_a_slow_server_times_out_and_is_retried(server: MediaServer, tmp_path: Path) -> None:
    answer = threading.Event()  # the server answers only after the downloads gave up
    server.add("/orig/slow", image_bytes(), gate=answer)
    _names, report = download(
        tmp_path, [hosted_input("s", server.origin, "slow")], timeout=0.2, retries=1
    )
    answer.set()
    assert report.failed == {
        "s": f"timed out after 0.2 s waiting for 127.0.0.1:{server.port} (2 tries)"
    }
    assert server.hits("/orig/slow") == 2
    assert all_names(tmp_path) == []


def test_a_stalled_body_times_out(server: MediaServer, tmp_path: Path) -> None:
    body = threading.Event()  # the body comes only after the download gave up
    server.add("/orig/stall", image_bytes(), body_gate=body)
    _names, report = download(
        tmp_path, [hosted_input("s", server.origin, "stall")], timeout=0.2, retries=0
    )
    body.set()
    assert report.failed["s"].startswith("timed out after 0.2 s reading from 127.0.0.1")
    assert all_names(tmp_path) == []


def test_dropped_connections_and_cut_bodies_are_retried(
    server: MediaServer, tmp_path: Path
) -> None:
    big = image_bytes(size=(300, 200))
    server.add("/orig/drop", image_bytes(8), drop=2)
    server.add("/orig/cut", big, truncate=2)
    records = [hosted_input("d", server.origin, "drop"), hosted_input("c", server.origin, "cut")]
    _names, report = download(tmp_path, records, jobs=2)
    assert report.ok, report.failed
    assert (tmp_path / "d.png").read_bytes() == image_bytes(8)
    assert (tmp_path / "c.png").read_bytes() == big
    assert server.hits("/orig/cut") == 3


def test_a_refused_connection_fails_after_retries(tmp_path: Path) -> None:
    with MediaServer() as gone:
        url = gone.url("/x.png")
    _names, report = download(tmp_path, [url_input("g", url)], retries=1)
    assert report.failed["g"].startswith("connection refused by 127.0.0.1:")
    assert report.failed["g"].endswith("(2 tries)")


# -- what gets written ---------------------------------------------------------------


def test_real_format_wins_over_the_provisional_name(server: MediaServer, tmp_path: Path):
    server.add("/orig/a", image_bytes(fmt="JPEG"))
    server.add("/orig/b", image_bytes(fmt="GIF"))
    server.add("/orig/c", image_bytes(fmt="PNG"))
    records = [
        hosted_input("a", server.origin, "a", fmt="PNG"),  # says PNG, is JPEG
        hosted_input("b", server.origin, "b"),  # says nothing: provisional jpg
        hosted_input("c", server.origin, "c", fmt="png"),
    ]
    names, report = download(tmp_path, records)
    assert names == ["a.png", "b.jpg", "c.png"]
    assert report.renamed == {"a": "a.jpg", "b": "b.gif"}
    assert all_names(tmp_path) == ["a.jpg", "b.gif", "c.png"]


def test_a_page_instead_of_an_image_is_a_failure(server: MediaServer, tmp_path: Path) -> None:
    server.add("/orig/login", b"<!DOCTYPE html><html>sign in</html>", content_type="text/html")
    server.add("/orig/junk", b"\x00\x01\x02\x03 junk")
    server.add("/orig/vid", b'{"error": "expired"}')
    records = [
        hosted_input("l", server.origin, "login"),
        hosted_input("j", server.origin, "junk"),
        hosted_input("v", server.origin, "vid", kind="video"),
    ]
    _names, report = download(tmp_path, records)
    assert report.failed == {
        "l": "not an image (the server sent html, 35 bytes)",
        "j": "not an image (unrecognised bytes, 9 bytes)",
        "v": "not video (the server sent json, 20 bytes)",
    }
    assert all_names(tmp_path) == []


def test_video_audio_and_text_downloads(server: MediaServer, tmp_path: Path) -> None:
    mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + b"\x00" * 64
    flac = b"fLaC\x00\x00\x00\x22" + b"\x00" * 40
    server.add("/orig/v", mp4)
    server.add("/orig/s", flac)
    server.add("/orig/t", "Grüße, world".encode())
    server.add("/orig/raw", b"\x00\x01 unknown video bytes")
    records = [
        hosted_input("v", server.origin, "v", kind="video"),
        hosted_input("s", server.origin, "s", kind="audio"),
        hosted_input("t", server.origin, "t", kind="text"),
        hosted_input("r", server.origin, "raw", kind="video"),
    ]
    names, report = download(tmp_path, records)
    assert names == ["v.mp4", "s.mp3", "t.txt", "r.mp4"]
    assert report.renamed == {"s": "s.flac"}
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "Grüße, world"
    assert (tmp_path / "r.mp4").read_bytes() == b"\x00\x01 unknown video bytes"


def test_png_reencodes_downloads(server: MediaServer, tmp_path: Path) -> None:
    jpeg = image_bytes(9, fmt="JPEG", size=(30, 20))
    server.add("/orig/j", jpeg)
    names, report = download(tmp_path, [hosted_input("j", server.origin, "j")], png=True)
    assert names == ["j.png"] and not report.renamed
    with Image.open(tmp_path / "j.png") as image, Image.open(io.BytesIO(jpeg)) as source:
        assert image.format == "PNG"
        assert image.tobytes() == source.convert("RGB").tobytes()
    assert all_names(tmp_path) == ["j.png"]


def test_embedded_bytes_are_used_even_in_download_mode(server: MediaServer, tmp_path: Path):
    record = embedded_input("e", image_bytes(1))
    record.data.image.hosted.prefix = server.origin
    record.data.image.hosted.suffix = "e"
    _names, report = download(tmp_path, [record])
    assert report.written == 1
    assert server.requests == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "bad URL scheme 'file'"),
        ("javascript:alert(1)", "bad URL scheme 'javascript'"),
        ("http://", "bad URL (no host)"),
        ("http://127.0.0.1:99999/x", "bad URL (cannot be parsed)"),
        ("http://127.0.0.1:1/a b\r\nX-Evil: 1", "bad URL"),
    ],
)
def test_bad_urls_fail(url: str, reason: str, tmp_path: Path) -> None:
    _names, report = download(tmp_path, [url_input("x", url)])
    assert report.failed["x"].startswith(reason)


def test_redirect_loops_and_bad_redirects_fail(server: MediaServer, tmp_path: Path) -> None:
    server.add("/loop", redirect="/loop", key=None)
    server.add("/to-file", redirect="file:///etc/passwd", key=None)
    records = [url_input("l", server.url("/loop")), url_input("f", server.url("/to-file"))]
    _names, report = download(tmp_path, records)
    assert report.failed == {
        "l": "more than 5 redirects",
        "f": "bad URL scheme 'file': only http and https",
    }


def test_bodies_over_the_size_limit_fail(server: MediaServer, tmp_path: Path) -> None:
    server.add("/big.png", image_bytes(size=(100, 100)), key=None)
    _names, report = download(tmp_path, [url_input("b", server.url("/big.png"))], max_bytes=100)
    assert report.failed["b"].startswith("too large")
    assert all_names(tmp_path) == []


# -- concurrency, memory, resuming ------------------------------------------------------


def test_downloads_run_concurrently_up_to_jobs(tmp_path: Path) -> None:
    with MediaServer() as server:
        # Each request is answered only once 8 are in flight together: fewer at once
        # would break the barrier (after 30 s) and fail the downloads.
        server.barrier = threading.Barrier(8, timeout=30)
        records = served_url_inputs(server, 24)
        _names, report = download(tmp_path, records, jobs=8)
        assert report.written == 24, report.failed
        assert server.max_in_flight == 8


def test_submit_blocks_so_queued_work_stays_bounded(tmp_path: Path) -> None:
    gate = threading.Event()
    with MediaServer() as server:
        records = served_url_inputs(server, 12)
        for n in range(12):
            server.route(f"/{n}.png").gate = gate  # held until the gate opens
        sink = MediaSink(tmp_path, mode="download", jobs=2, **FAST)  # type: ignore[arg-type]
        submitted = 0
        most_queued = 0

        def submit_all() -> None:
            nonlocal submitted, most_queued
            for record in records:
                sink.submit(record)
                submitted += 1
                most_queued = max(most_queued, sink._queue.qsize())

        submitter = threading.Thread(target=submit_all)
        submitter.start()
        # 2 downloads held at the server and 4 (2 * jobs) queued: the 7th submit waits
        assert server.wait_for_in_flight(2)
        assert wait_until(lambda: sink._queue.qsize() == 4)
        assert submitter.is_alive() and submitted == 6
        gate.set()
        submitter.join(30)
        report = sink.close()
    assert not submitter.is_alive() and submitted == 12
    assert report.written == 12
    assert most_queued <= 4


def test_interrupted_run_keeps_finished_files_only_and_rerun_fetches_the_rest(
    tmp_path: Path,
) -> None:
    held = threading.Event()
    with MediaServer() as server:
        records = []
        for n in range(10):
            # Odd images are held at the server until the run is interrupted.
            server.add(f"/orig/{n}", image_bytes(n), gate=held if n % 2 else None)
            records.append(hosted_input(f"i{n}", server.origin, str(n)))
        with pytest.raises(KeyboardInterrupt):
            options = {"mode": "download", "pat": KEY, "jobs": 10, **FAST, "timeout": 0.3}
            with MediaSink(tmp_path, **options) as sink:  # type: ignore[arg-type]
                for record in records:
                    sink.submit(record)
                for n in range(0, 10, 2):  # the even ones are written
                    assert wait_until(lambda n=n: (tmp_path / f"i{n}.png").exists())
                raise KeyboardInterrupt
        first = sink.report
        assert first is not None
        assert all_names(tmp_path) == sorted(f"i{n}.png" for n in range(0, 10, 2))
        for n in range(0, 10, 2):
            assert (tmp_path / f"i{n}.png").read_bytes() == image_bytes(n)

        held.set()
        before = {n: server.hits(f"/orig/{n}") for n in range(10)}
        names, second = download(tmp_path, records)
        assert (second.written, second.reused) == (5, 5)
        assert names == [f"i{n}.png" if n % 2 == 0 else f"i{n}.jpg" for n in range(10)]
        assert second.renamed == {f"i{n}": f"i{n}.png" for n in range(1, 10, 2)}
        for n in range(10):
            assert server.hits(f"/orig/{n}") - before[n] == n % 2  # only the missing ones
        assert all_names(tmp_path) == sorted(f"i{n}.png" for n in range(10))

        # A third run needs the network no more: every file is reused under its real name.
        requests = len(server.requests)
        names, third = download(tmp_path, records)
        assert (third.written, third.reused) == (0, 10)
        assert names == [f"i{n}.png" for n in range(10)]
        assert len(server.requests) == requests


def test_non_ascii_urls_are_percent_encoded(server: MediaServer, tmp_path: Path) -> None:
    server.add("/b%C3%BCcher/%E7%8C%AB.png", image_bytes(2), key=None)
    url = server.url("/bücher/猫.png")
    _names, report = download(tmp_path, [url_input("u", url)])
    assert report.ok, report.failed
    assert (tmp_path / "u.png").read_bytes() == image_bytes(2)


@pytest.mark.parametrize("bad", ["", "two words", "line\r\nX-Evil: 1", "tab\tkey"])
def test_a_key_that_could_split_a_header_is_refused_up_front(bad: str, tmp_path: Path) -> None:
    from toolkit.errors import MediaError

    with pytest.raises(MediaError, match="characters a key cannot have") as info:
        MediaSink(tmp_path, mode="download", pat=bad)
    assert bad not in str(info.value) or not bad


def test_a_bug_in_a_worker_surfaces_without_the_key(
    server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.errors import MediaError

    def broken(*args: object) -> None:
        raise RuntimeError(f"boom with Key {KEY}")

    monkeypatch.setattr(MediaSink, "_produce", broken)
    server.add("/orig/x", image_bytes())
    with pytest.raises(MediaError, match=r"media worker failed: RuntimeError\('boom") as info:
        download(tmp_path, [hosted_input("x", server.origin, "x")])
    assert KEY not in str(info.value)
    assert "***" in str(info.value)


# -- https ------------------------------------------------------------------------------


@pytest.fixture(name="tls_cert", scope="module")
def _tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from media_server import make_tls_cert

    made = make_tls_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is not installed")
    return made


def test_https_with_a_trusted_certificate_gets_the_key(
    tls_cert: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))
    with MediaServer(key=KEY, tls=tls_cert) as server:
        server.add("/orig/s", image_bytes(4))
        _names, report = download(tmp_path / "out", [hosted_input("s", server.origin, "s")])
        assert server.origin.startswith("https://")
        assert report.ok, report.failed
        assert server.requests[0].header("Authorization") == f"Key {KEY}"
    assert (tmp_path / "out" / "s.png").read_bytes() == image_bytes(4)


def test_an_untrusted_certificate_fails_at_once(
    tls_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    with MediaServer(key=KEY, tls=tls_cert) as server:
        server.add("/orig/s", image_bytes(4))
        _names, report = download(tmp_path, [hosted_input("s", server.origin, "s")])
        assert server.requests == []  # the key never left: no request was made
    assert report.failed == {"s": f"TLS certificate of 127.0.0.1:{server.port} not trusted"}


def test_key_is_dropped_when_a_redirect_leaves_https(
    tls_cert: tuple[Path, Path],
    other: MediaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))
    with MediaServer(key=KEY, tls=tls_cert) as server:
        other.add("/plain.png", image_bytes(5))
        server.add("/orig/s", redirect=other.url("/plain.png"))
        _names, report = download(tmp_path, [hosted_input("s", server.origin, "s")])
    assert report.ok, report.failed
    assert other.requests[0].header("Authorization") is None
