"""``clarifai-archive serve`` on the command line: URL, loopback, warnings, stopping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from serve_helpers import write_serve_archive  # noqa: E402

from toolkit.catalog import Catalog  # noqa: E402
from toolkit.cli import cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(name="no_serving")
def _no_serving(monkeypatch):
    """uvicorn.Server.run returns at once; the configs it got are kept."""
    seen: list = []

    def run(self, sockets=None):
        seen.append((self.config.app, sockets[0].getsockname()))

    monkeypatch.setattr(uvicorn.Server, "run", run)
    return seen


def test_prints_the_loopback_url_and_nothing_else(runner, tmp_path, no_serving):
    archive = write_serve_archive(tmp_path / "a.zip", 3)
    result = runner.invoke(cli, ["serve", str(archive), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    host, port = no_serving[0][1][:2]
    assert host == "127.0.0.1" and port > 0
    assert result.stdout == f"http://127.0.0.1:{port}/\n"
    assert "Warning" not in result.stderr


def test_other_host_warns(runner, tmp_path, no_serving):
    archive = write_serve_archive(tmp_path / "a.zip", 3)
    args = ["serve", str(archive), "--host", "0.0.0.0", "--output-dir", str(tmp_path)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Warning: listening on 0.0.0.0" in result.stderr
    assert result.stdout.startswith("http://0.0.0.0:")


def test_catalog_reference(runner, tmp_path, no_serving):
    archive = write_serve_archive(tmp_path / "a.zip", 3)
    home = tmp_path / "home"
    with Catalog(home) as catalog:
        catalog.datasets.add(archive, dataset="birds", version="v1")
    result = runner.invoke(cli, ["--home", str(home), "serve", "birds", "--output-dir", "."])
    assert result.exit_code == 0, result.output
    service = no_serving[0][0].state.service
    assert service.config.ref == "birds@v1" and service.config.home == home


def test_a_server_that_returns_stops_its_reading_before_the_scratch_goes(
    runner, tmp_path, no_serving
):
    # uvicorn mocked away runs no lifespan: the command itself must stop the background
    # reading and index build, or they write into a scratch folder already removed.
    archive = write_serve_archive(tmp_path / "a.zip", 3)
    result = runner.invoke(cli, ["serve", str(archive), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    browser = no_serving[0][0].state.service.browser
    assert browser._stop.is_set() and not browser._thread.is_alive()


class TestUsage:
    def test_missing_extra_says_what_to_install(self, runner, tmp_path, monkeypatch):
        archive = write_serve_archive(tmp_path / "a.zip", 2)
        monkeypatch.setitem(sys.modules, "uvicorn", None)
        result = runner.invoke(cli, ["serve", str(archive)])
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: the web app needs Starlette and uvicorn (uvicorn is missing): "
            "pip install 'clarifai-archive-toolkit[serve]'\n"
        )

    def test_pat_file_needs_download(self, runner, tmp_path):
        archive = write_serve_archive(tmp_path / "a.zip", 2)
        key = tmp_path / "key"
        key.write_text("abcd1234\n")
        result = runner.invoke(cli, ["serve", str(archive), "--pat-file", str(key)])
        assert result.exit_code == 2 and "--pat-file goes with --download" in result.stderr

    def test_not_an_archive(self, runner, tmp_path):
        result = runner.invoke(cli, ["--home", str(tmp_path), "serve", str(tmp_path / "nope")])
        assert result.exit_code == 2 and "no such file" in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["url", "json"])
def test_real_server_answers_and_stops_on_ctrl_c(tmp_path, as_json):
    archive = write_serve_archive(tmp_path / "a.zip", 4)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    json_flag = ["--json"] if as_json else []
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolkit",
            "serve",
            str(archive),
            "--output-dir",
            str(tmp_path),
            *json_flag,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline().strip()
        url = json.loads(line)["url"] if as_json else line
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        deadline = time.monotonic() + 30
        while True:
            state = httpx.get(url + "api/state").json()
            if state["progress"]["done"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert state["rows"] == 6
        assert 'name="toolkit-token"' in httpx.get(url).text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err.endswith("Stopped.\n")
