"""Path safety: names from an archive (or from options) never write outside the output.

Input ids become media file names (coco, sdk), split names become archive names, and
catalog ids become folders. Zip-slip attempts (``../../x``, absolute paths), NUL, very
long names and names that differ only in case must give sanitised, unique names under
the output folder, or a clean ``Error:``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.messages import Input

HOSTILE_IDS = [
    "../../escaped",
    "../../../../../../../../tmp/escaped-abs",
    "/etc/passwd-copy",
    "/abs/path",
    "a/b/c",
    "a\\..\\..\\windows",
    "..",
    ".",
    " ",
    "CON",
    "nul",
    "aux.txt",
    "x" * 400,
    "\u00e9" * 300,
    "Case",
    "case",
    "CASE",
    "e\u0301",
    "\u00e9",
    "a\x00b",
    "tab\tnew\nline",
    "\u202egnp.exe",
    "~",
    "-rf",
    "$(touch pwned)",
    "all/../..",
    "mimetype",
    "x.png",
    "x.PNG",
    ".hidden",
    "trailing.",
    "trailing ",
]


def _png(n: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4 + n % 3, 3), (n % 256, 10, 20)).save(buf, format="PNG")
    return buf.getvalue()


def _records() -> list[Input]:
    records = []
    for n, input_id in enumerate(HOSTILE_IDS):
        record = Input(id=input_id)
        record.data.image.base64 = _png(n)
        record.data.image.image_info.width = 4 + n % 3
        record.data.image.image_info.height = 3
        region = record.data.regions.add(id=input_id)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = 0.1, 0.1, 0.9, 0.9
        region.data.concepts.add(id=input_id or "c", name=input_id, value=1.0)
        record.data.concepts.add(id=input_id, name=input_id, value=1.0)
        records.append(record)
    return records


#: An archive file name that is a path, a shell expansion and a device name at once.
ODD_NAME = "..%2f..%2fevil $(x) CON.zip"


def _tree(folder: Path) -> set[str]:
    found = set()
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(root, name), folder))
    return found


@pytest.fixture(name="sandbox")
def _sandbox(tmp_path: Path, monkeypatch):
    """A folder layout with the archive under in/ and outputs under out/; the test
    checks that nothing appears anywhere but out/ (the current folder is out/ too)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    archive = tmp_path / "in" / "hostile.zip"
    write_archive(archive, _records(), batch_size=7)
    (tmp_path / "in" / ODD_NAME).write_bytes(archive.read_bytes())
    monkeypatch.chdir(tmp_path / "out")
    before = _tree(tmp_path)
    parent_before = set(os.listdir(tmp_path.parent))
    yield tmp_path, archive
    after = _tree(tmp_path)
    outside = sorted(p for p in after - before if not p.startswith("out"))
    assert outside == [], f"written outside the output folder: {outside}"
    assert set(os.listdir(tmp_path.parent)) == parent_before
    assert not Path("/tmp/escaped-abs").exists()
    assert not Path("/etc/passwd-copy").exists()


def _run(runner, *args: str):
    result = runner.invoke(cli, ["-q", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return result


def _check_names(names: list[str], where: str, *, max_part: int | None = 255) -> None:
    """Relative, without '..', no NUL, each part short enough, unique even ignoring case."""
    for name in names:
        parts = name.replace("\\", "/").split("/")
        assert not name.startswith(("/", "\\")), f"{where}: absolute name {name!r}"
        assert ".." not in parts, f"{where}: '..' in {name!r}"
        assert "\x00" not in name, f"{where}: NUL in {name!r}"
        if max_part is not None:
            too_long = any(len(p.encode("utf-8")) > max_part for p in parts)
            assert not too_long, f"{where}: {name!r} too long"
    assert len({n.lower() for n in names}) == len(names), f"{where}: names clash ignoring case"


def test_coco_media_names_are_safe_and_unique(runner, sandbox) -> None:
    root, archive = sandbox
    result = _run(
        runner, "convert", str(archive), "--to", "coco", "-o", "coco", "--media", "embedded"
    )
    assert result.exit_code == 0, result.stderr
    coco_dir = root / "out" / "coco"
    coco = json.loads((coco_dir / "annotations.json").read_text("utf-8"))
    names = [image["file_name"] for image in coco["images"]]
    assert len(names) == len(HOSTILE_IDS)
    _check_names(names, "coco file_name")
    for name in names:
        path = (coco_dir / "images" / name).resolve()
        if not path.exists():
            path = (coco_dir / name).resolve()
        assert path.is_file(), name
        assert coco_dir.resolve() in path.parents


def test_sdk_zip_entry_names_are_safe_and_unique(runner, sandbox) -> None:
    root, archive = sandbox
    result = _run(
        runner, "convert", str(archive), "--to", "sdk", "-o", "sdk.zip", "--media", "embedded"
    )
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(root / "out" / "sdk.zip") as zf:
        names = zf.namelist()
    media = [n for n in names if "/inputs/" in n]
    notes = [n for n in names if "/annotations/" in n]
    assert len(media) == len(HOSTILE_IDS) and len(notes) == len(HOSTILE_IDS)
    _check_names(names, "sdk zip entry")


@pytest.mark.parametrize("fmt", ["json", "protobuf", "jsonl"])
def test_ids_stay_data_in_archive_outputs(runner, sandbox, fmt) -> None:
    root, archive = sandbox
    out = "result.jsonl" if fmt == "jsonl" else "result.zip"
    result = _run(runner, "convert", str(archive), "--to", fmt, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _tree(root / "out") == {out}


@pytest.mark.parametrize(
    "split_name", ["../../escaped", "/abs", "a/b", "..", "x" * 300, "a\x00b", "CON"]
)
def test_split_names(runner, sandbox, split_name) -> None:
    root, archive = sandbox
    result = _run(
        runner, "split", str(archive), "--ratios", f"{split_name}=0.5,ok=0.5", "-o", "parts"
    )
    if result.exit_code == 0:
        _check_names(sorted(_tree(root / "out" / "parts")), "split archive")
    else:  # refused as a usage error, or the file system refused the name
        assert result.exit_code in (1, 2)
        assert result.stderr.count("Error:") == 1, result.stderr


@pytest.mark.parametrize("split_folder", ["../../escaped", "/abs", "a/../../b", "x" * 300])
def test_convert_split_folder_option(runner, sandbox, split_folder) -> None:
    """``--split`` names the folder inside the output zip: never a path outside it."""
    root, archive = sandbox
    result = _run(
        runner, "convert", str(archive), "--to", "protobuf", "-o", "r.zip", "--split", split_folder
    )
    if result.exit_code == 0:
        with zipfile.ZipFile(root / "out" / "r.zip") as zf:
            _check_names(zf.namelist(), "batch entry", max_part=None)
    else:
        assert result.exit_code in (1, 2)
        assert result.stderr.count("Error:") == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--dataset", "../../escaped"),
        ("--dataset", "/abs"),
        ("--dataset", "a/b"),
        ("--version", "../../escaped"),
        ("--version", "..\\..\\x"),
        ("--version", "x" * 300),
    ],
)
def test_catalog_ids(runner, sandbox, option, value) -> None:
    root, archive = sandbox
    args = ["--home", str(root / "out" / "home"), "datasets", "add", str(archive)]
    args += ["--dataset", "ok"] if option == "--version" else []
    result = _run(runner, *args, option, value)
    assert result.exit_code in (1, 2), result.stdout
    assert result.stderr.count("Error:") == 1


def test_catalog_version_id_from_a_hostile_file_name(runner, sandbox) -> None:
    """Without --version the id comes from the archive's file name: it is sanitised."""
    root, archive = sandbox
    odd = root / "in" / ODD_NAME
    home = root / "out" / "home"
    result = _run(runner, "--home", str(home), "datasets", "add", str(odd), "--dataset", "d")
    assert result.exit_code == 0, result.stderr
    listed = _run(runner, "--home", str(home), "versions", "list", "d", "--json")
    assert listed.exit_code == 0, listed.stderr
    files = [p for p in _tree(home) if p.endswith(".zip")]
    _check_names(files, "catalog file")
