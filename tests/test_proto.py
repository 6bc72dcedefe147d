"""The schema: complete against clarifai-grpc, and its generated code current."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from toolkit._proto import resources_pb2 as ours

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="gen_schema", scope="module")
def _gen_schema() -> ModuleType:
    pytest.importorskip("clarifai_grpc")
    return _load_script("gen_schema")


def test_generated_module_is_current(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    generator = _load_script("gen_proto")
    written = generator.generate(tmp_path)
    names = sorted(p.name for p in written)
    checked_in = sorted(
        p.name for p in (ROOT / "toolkit" / "_proto").iterdir() if p.name != "__init__.py"
    )
    checked_in = [n for n in checked_in if not n.startswith("__pycache__")]
    assert names == checked_in
    for name in names:
        fresh = (tmp_path / name).read_text()
        assert fresh == (ROOT / "toolkit" / "_proto" / name).read_text(), (
            f"toolkit/_proto/{name} is stale: run scripts/gen_proto.py"
        )


def test_schema_is_complete_against_clarifai_grpc(gen_schema) -> None:
    """Every message reachable from Input in clarifai-grpc, every field of it (number,
    type, label, oneof, json name), every enum value: a Clarifai release that adds one
    turns this red until scripts/gen_schema.py is run."""
    from clarifai_grpc.grpc.api import resources_pb2 as grpc

    assert gen_schema.schema_differences(ours.DESCRIPTOR.pool, [grpc.Input.DESCRIPTOR]) == []
    assert gen_schema.schema_differences(ours.DESCRIPTOR.pool, gen_schema.clarifai_roots()) == []
    reached = gen_schema.closure([grpc.Input.DESCRIPTOR])
    assert len(reached) > 100  # Input, Data, ... Model, User, status.Status: the real thing


def test_proto_files_are_what_the_script_writes(gen_schema, tmp_path: Path) -> None:
    """proto/ is the script's output for the installed clarifai-grpc, not edited by hand."""
    written = gen_schema.write_protos(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in written) == sorted(
        p.relative_to(PROTO) for p in PROTO.rglob("*.proto")
    )
    for path in written:
        mine = (PROTO / path.relative_to(tmp_path)).read_text().split("\n", 1)[1]
        assert path.read_text().split("\n", 1)[1] == mine, path.name


def _compile(proto_dir: Path, tmp_path: Path) -> descriptor_pool.DescriptorPool:
    """A descriptor pool of the .proto files under ``proto_dir``, compiled by protoc."""
    pytest.importorskip("grpc_tools")
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "set.pb"
    files = sorted(str(p.relative_to(proto_dir)) for p in proto_dir.rglob("*.proto"))
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{proto_dir}"]
    subprocess.run([*cmd, f"--descriptor_set_out={out}", "--include_imports", *files], check=True)
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
        pool.Add(file)
    return pool


def _edited_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    copy = tmp_path / "proto"
    for path in PROTO.rglob("*.proto"):
        target = copy / path.relative_to(PROTO)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    text = (copy / name).read_text()
    assert len(re.findall(old, text)) == 1, old
    (copy / name).write_text(re.sub(old, new, text))
    return copy


@pytest.mark.parametrize(
    ("name", "old", "new", "reported"),
    [
        (
            "clarifai/api/resources.proto",
            r"\n  string thumbnail_url = 5 \[deprecated = true\];",
            "",
            "field clarifai.api.Video.thumbnail_url = 5 is missing",
        ),
        (
            "clarifai/api/resources.proto",
            r"\n  Span span = 7;",
            "",
            "field clarifai.api.RegionInfo.span = 7 is missing",
        ),
        (
            "clarifai/api/resources.proto",
            r"message Span \{\n  uint32 char_start = 1;",
            "message Span {\n  int64 char_start = 1;",
            "field clarifai.api.Span.char_start: type is",
        ),
        (
            "clarifai/api/resources.proto",
            r"string mode = 5;",
            "repeated string mode = 5;",
            "field clarifai.api.ImageInfo.mode: label is 'repeated'",
        ),
        (
            "clarifai/api/resources.proto",
            r"bool allow_duplicate_url = 4;\n  HostedURL hosted = 5;\n  ImageInfo image_info = 6;",
            "bool allow_duplicate_url = 40;\n  HostedURL hosted = 5;\n  ImageInfo image_info = 6;",
            "field clarifai.api.Image.allow_duplicate_url: number is 40",
        ),
        (
            "clarifai/api/status/status_code.proto",
            r"\n  MIXED_STATUS = 10010;",
            "",
            "enum value clarifai.api.status.StatusCode.MIXED_STATUS = 10010 is missing",
        ),
        (
            "clarifai/api/resources.proto",
            r"  oneof worker \{\n    User user = 1;\n",
            "  User user = 1;\n  oneof worker {\n",
            "field clarifai.api.Worker.user: oneof is None",
        ),
    ],
)
def test_completeness_check_reports_a_changed_proto(
    gen_schema, tmp_path: Path, name: str, old: str, new: str, reported: str
) -> None:
    """The check itself can fail: a copy of our .proto with one field or value removed
    or changed, compiled, is reported with what is wrong."""
    unchanged = _compile(PROTO, tmp_path / "a")
    assert gen_schema.schema_differences(unchanged, gen_schema.clarifai_roots()) == []
    pool = _compile(_edited_copy(tmp_path, name, old, new), tmp_path / "b")
    problems = gen_schema.schema_differences(pool, gen_schema.clarifai_roots())
    assert len(problems) == 1 and problems[0].startswith(reported), problems


def test_completeness_check_reports_a_missing_message(gen_schema, tmp_path: Path) -> None:
    copy = _edited_copy(tmp_path, "clarifai/api/resources.proto", r"\n  Span span = 7;", "")
    text = (copy / "clarifai/api/resources.proto").read_text()
    start = text.index("\nmessage Span {")
    end = text.index("}\n", start) + 2
    (copy / "clarifai/api/resources.proto").write_text(text[:start] + text[end:])
    pool = _compile(copy, tmp_path / "b")
    problems = gen_schema.schema_differences(pool, gen_schema.clarifai_roots())
    assert problems == [
        "field clarifai.api.RegionInfo.span = 7 is missing",
        "message clarifai.api.Span is missing",
    ]


def test_both_packages_import_in_one_process() -> None:
    grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
    record = ours.Input(id="x")
    record.data.concepts.add(id="cat", value=1.0)
    record.status.code = 10000
    theirs = grpc.Input.FromString(record.SerializeToString())
    assert theirs.data.concepts[0].id == "cat" and theirs.status.code == 10000
    assert ours.DESCRIPTOR.pool is not grpc.DESCRIPTOR.pool
