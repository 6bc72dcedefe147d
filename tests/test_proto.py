"""The schema: generated code is current and matches Clarifai's own field numbers and types."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from toolkit._proto import resources_pb2 as ours

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_proto"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_module_is_current(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    generator = _load_generator()
    generator.generate(tmp_path)
    for name in ("resources_pb2.py", "resources_pb2.pyi"):
        fresh = (tmp_path / name).read_text()
        checked_in = (ROOT / "toolkit" / "_proto" / name).read_text()
        assert fresh == checked_in, f"toolkit/_proto/{name} is stale: run scripts/gen_proto.py"


def _field_signature(field) -> tuple:
    message = field.message_type.full_name if field.message_type else None
    enum = field.enum_type.full_name if field.enum_type else None
    return (field.number, field.type, field.is_repeated, message, enum)


def test_every_field_matches_clarifai_grpc() -> None:
    grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
    theirs = grpc.DESCRIPTOR.message_types_by_name
    checked = 0
    for name, descriptor in ours.DESCRIPTOR.message_types_by_name.items():
        assert name in theirs, f"clarifai-grpc has no message {name}"
        for field in descriptor.fields:
            other = theirs[name].fields_by_name.get(field.name)
            assert other is not None, f"clarifai-grpc has no field {name}.{field.name}"
            assert _field_signature(field) == _field_signature(other), f"{name}.{field.name}"
            checked += 1
    assert checked > 100
    theirs_enum = grpc.DESCRIPTOR.enum_types_by_name["DatasetVersionExportFormat"]
    ours_enum = ours.DESCRIPTOR.enum_types_by_name["DatasetVersionExportFormat"]
    for value in ours_enum.values:
        if value.number:
            assert theirs_enum.values_by_number[value.number].name == value.name


def test_both_packages_import_in_one_process() -> None:
    grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
    record = ours.Input(id="x")
    record.data.concepts.add(id="cat", value=1.0)
    theirs = grpc.Input.FromString(record.SerializeToString())
    assert theirs.data.concepts[0].id == "cat"
