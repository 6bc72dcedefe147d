"""The Clarifai key: sent only to the hosted prefix's host, never shown or written.

A distinctive key is used against every command that can download (``convert
--media download`` in each format that writes media, ``datasets export --media
download``), with a local server on 127.0.0.1 that records every request. The key
must not appear in stdout, stderr, log records, reports or any output file, and must
reach only the hosted copies' origin: never plain URLs, other hosts or redirects.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest
from media_server import MediaServer, Route
from PIL import Image

from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.messages import Input

KEY = "PAT-zq7xk2m9v4w8b1n6c3d5f0g-DISTINCTIVE"


def _png(n: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (5 + n, 4), (n * 40 % 256, 90, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _hosted(input_id: str, prefix: str, suffix: str) -> Input:
    record = Input(id=input_id)
    hosted = record.data.image.hosted
    hosted.prefix, hosted.suffix = prefix, suffix
    hosted.sizes.append("orig")
    record.data.concepts.add(id="cat", name="Cat", value=1.0)
    region = record.data.regions.add(id=f"{input_id}-r")
    box = region.region_info.bounding_box
    box.top_row, box.left_col, box.bottom_row, box.right_col = 0.1, 0.1, 0.5, 0.5
    region.data.concepts.add(id="cat", name="Cat", value=1.0)
    return record


def _url(input_id: str, url: str) -> Input:
    record = Input(id=input_id)
    record.data.image.url = url
    return record


def _all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            found.append((path, path.read_bytes()))
    return found


def _assert_key_absent(*texts: str, folders: tuple[Path, ...] = ()) -> None:
    for text in texts:
        assert KEY not in text
    for folder in folders:
        for path, data in _all_bytes(folder):
            assert KEY.encode() not in data, f"the key is written in {path}"
            assert KEY.encode("utf-16-le") not in data, f"the key is written in {path}"


@pytest.fixture(name="servers")
def _servers():
    """The hosted origin (requires the key) and a second, foreign origin."""
    with MediaServer(key=KEY) as hosted, MediaServer() as foreign:
        for n in range(3):
            hosted.add(f"/orig/img/{n}.png", _png(n), content_type="image/png")
        foreign.add("/plain.png", _png(7), content_type="image/png")
        foreign.add("/moved.png", _png(8), content_type="image/png")
        # A hosted copy that redirects to another origin: the key must not follow.
        hosted.add("/orig/img/away.png", redirect=foreign.url("/moved.png"))
        # A hosted copy whose error page echoes the Authorization header.
        hosted.add("/orig/img/echo.png", status=500, body=f"you sent Key {KEY}".encode())
        yield hosted, foreign


def _archive(tmp_path: Path, hosted: MediaServer, foreign: MediaServer) -> Path:
    records = [_hosted(f"h{n}", hosted.origin, f"img/{n}.png") for n in range(3)]
    records.append(_hosted("away", hosted.origin, "img/away.png"))
    records.append(_url("plain", foreign.url("/plain.png")))
    path = tmp_path / "in" / "hosted.zip"
    path.parent.mkdir()
    write_archive(path, records)
    return path


def _check_requests(hosted: MediaServer, foreign: MediaServer) -> None:
    hosted_requests = hosted.requests
    assert hosted_requests, "nothing was downloaded"
    for request in hosted_requests:
        assert request.header("Authorization") == f"Key {KEY}", request.path
    for request in foreign.requests:
        assert request.header("Authorization") is None, f"the key went to {request.path}"
        assert KEY not in str(request.headers)
    assert foreign.hits("/plain.png") >= 1
    assert foreign.hits("/moved.png") >= 1  # the redirect was followed, without the key


def _commands(archive: Path, out: Path) -> dict[str, list[str]]:
    return {
        "coco": ["convert", str(archive), "--to", "coco", "-o", str(out / "coco")],
        "sdk": ["convert", str(archive), "--to", "sdk", "-o", str(out / "sdk.zip"), "--png"],
    }


@pytest.mark.parametrize("fmt", ["coco", "sdk"])
@pytest.mark.parametrize("source", ["env", "pat-file"])
def test_key_only_to_the_hosted_origin_and_never_shown(
    runner, servers, tmp_path: Path, monkeypatch, caplog, fmt, source
) -> None:
    hosted, foreign = servers
    archive = _archive(tmp_path, hosted, foreign)
    out = tmp_path / "out"
    out.mkdir()
    args = _commands(archive, out)[fmt]
    args += ["--media", "download", "--retries", "0", "--timeout", "5", "--allow-missing"]
    args += ["--report", str(out / "report.json")]
    if source == "env":
        monkeypatch.setenv("CLARIFAI_PAT", KEY)
    else:
        monkeypatch.delenv("CLARIFAI_PAT", raising=False)
        key_file = tmp_path / "in" / "pat.txt"
        key_file.write_text(f"{KEY}\n")
        args += ["--pat-file", str(key_file)]
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.stderr
    logged = "\n".join(r.getMessage() for r in caplog.records)
    _assert_key_absent(result.stdout, result.stderr, logged, folders=(out,))
    _check_requests(hosted, foreign)


@pytest.mark.parametrize("fmt", ["coco", "sdk"])
def test_failures_never_show_the_key(runner, servers, tmp_path: Path, monkeypatch, fmt) -> None:
    """Without --allow-missing the failed media end the run: the message names the
    failure (the echoing server's 500) without the key, and nothing is written."""
    hosted, foreign = servers
    monkeypatch.setenv("CLARIFAI_PAT", KEY)
    records = [
        _hosted("echo", hosted.origin, "img/echo.png"),
        _hosted("h0", hosted.origin, "img/0.png"),
    ]
    archive = tmp_path / "echo.zip"
    write_archive(archive, records)
    out = tmp_path / "out"
    out.mkdir()
    args = _commands(archive, out)[fmt] + ["--media", "download", "--retries", "0"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("Error:") == 1
    _assert_key_absent(result.stdout, result.stderr, folders=(out,))


@pytest.mark.parametrize(
    "prefix",
    [
        "http://example.invalid",  # plain http off loopback
        "https://evil.example.invalid",  # not a Clarifai host
        "https://clarifai.com.evil.invalid",  # looks like one
        "ftp://127.0.0.1",
        "file:///etc",
    ],
)
def test_key_is_not_sent_to_other_hosts(runner, tmp_path: Path, monkeypatch, prefix) -> None:
    """Hosted copies on a host that may not get the key fail without any request (and
    without the key in the message); no network is reached for these hosts."""
    monkeypatch.setenv("CLARIFAI_PAT", KEY)
    archive = tmp_path / "bad.zip"
    write_archive(archive, [_hosted("x", prefix, "a.png")])
    out = tmp_path / "out"
    out.mkdir()
    args = ["convert", str(archive), "--to", "sdk", "-o", str(out / "s.zip")]
    args += ["--media", "download", "--retries", "0", "--timeout", "2", "--allow-missing"]
    args += ["--report", str(out / "report.json")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    _assert_key_absent(result.stdout, result.stderr, folders=(out,))


def test_datasets_export_download(runner, servers, tmp_path: Path, monkeypatch, caplog) -> None:
    hosted, foreign = servers
    archive = _archive(tmp_path, hosted, foreign)
    home = tmp_path / "home"
    monkeypatch.setenv("CLARIFAI_PAT", KEY)
    caplog.set_level(logging.DEBUG)
    added = runner.invoke(
        cli, ["--home", str(home), "datasets", "add", str(archive), "--dataset", "d"]
    )
    assert added.exit_code == 0, added.stderr
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(
        cli,
        ["--home", str(home), "datasets", "export", "d", "--to", "coco", "-o", str(out / "c")]
        + ["--media", "download", "--allow-missing", "--json"],
    )
    assert result.exit_code == 0, result.stderr
    logged = "\n".join(r.getMessage() for r in caplog.records)
    _assert_key_absent(added.stdout, added.stderr, result.stdout, result.stderr, logged)
    _assert_key_absent(folders=(out, home))
    _check_requests(hosted, foreign)


def test_key_file_errors_do_not_show_its_content(runner, tmp_path: Path) -> None:
    """A key file that is no key (binary, a folder) gives an error without its bytes."""
    archive = tmp_path / "a.zip"
    write_archive(archive, [_hosted("x", "https://data.clarifai.com", "a.png")])
    key_file = tmp_path / "pat.txt"
    key_file.write_bytes(KEY.encode() + b" \x00\xff trailing junk\n")
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(
        cli,
        ["convert", str(archive), "--to", "sdk", "-o", str(out / "s.zip"), "--media", "download"]
        + ["--pat-file", str(key_file), "--retries", "0", "--timeout", "1"],
    )
    assert result.exit_code in (1, 2)
    _assert_key_absent(result.stdout, result.stderr, folders=(out,))


def test_route_helper_used_as_documented() -> None:
    """The server records the header the way these tests read it."""
    with MediaServer({"/x": Route(body=b"1", key=KEY)}) as server:
        import urllib.request

        request = urllib.request.Request(server.url("/x"), headers={"Authorization": f"Key {KEY}"})
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
            assert answer.read() == b"1"
        assert server.requests_for("/x")[0].header("Authorization") == f"Key {KEY}"
