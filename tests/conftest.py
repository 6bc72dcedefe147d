"""Shared fixtures: archives built in code, the sample data, a CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.archive import Flavour, write_archive
from toolkit.messages import Input

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"

MakeArchive = Callable[..., Path]


@pytest.fixture(name="make_archive")
def _make_archive(tmp_path: Path) -> MakeArchive:
    """Factory: ``make_archive(records, name="a.zip", batch_size=128, flavour="protobuf")``."""

    def make(
        records: Iterable[Input],
        name: str = "archive.zip",
        *,
        batch_size: int = 128,
        flavour: Flavour = "protobuf",
    ) -> Path:
        path = tmp_path / name
        write_archive(path, records, batch_size=batch_size, flavour=flavour)
        return path

    return make


@pytest.fixture(name="sample_archive", scope="session")
def _sample_archive() -> Path:
    """sample_data/clarifai-data-protobuf.zip (30 drawn images and one text input)."""
    return SAMPLE_DIR / "clarifai-data-protobuf.zip"


@pytest.fixture(name="sample_hosted_archive", scope="session")
def _sample_hosted_archive() -> Path:
    """sample_data/clarifai-data-protobuf-hosted.zip (hosted URLs instead of bytes)."""
    return SAMPLE_DIR / "clarifai-data-protobuf-hosted.zip"


@pytest.fixture(name="sample_json_archive", scope="session")
def _sample_json_archive() -> Path:
    """sample_data/clarifai-data-json.zip (the Clarifai-Data-JSON flavour)."""
    return SAMPLE_DIR / "clarifai-data-json.zip"


@pytest.fixture(name="runner")
def _runner() -> CliRunner:
    """A click test runner with stderr kept apart from stdout."""
    return CliRunner()
