"""Regenerate toolkit/_proto/resources_pb2.py(.pyi) from proto/clarifai/api/resources.proto.

The generated module registers its messages in a private descriptor pool, so that the
toolkit and Clarifai's own ``clarifai-grpc`` package (which defines the same
``clarifai.api`` names in the default pool) can be imported in one process.

Usage: python scripts/gen_proto.py [--out DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PROTO_FILE = "clarifai/api/resources.proto"
DEFAULT_OUT = ROOT / "toolkit" / "_proto"

_DEFAULT_POOL_LINE = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
_PRIVATE_POOL_LINES = (
    "# Edited by scripts/gen_proto.py: a private pool, so clarifai-grpc can be imported too.\n"
    "_POOL = _descriptor_pool.DescriptorPool()\n"
    "for _dep in (\n"
    "    google_dot_protobuf_dot_struct__pb2,\n"
    "    google_dot_protobuf_dot_timestamp__pb2,\n"
    "    google_dot_protobuf_dot_wrappers__pb2,\n"
    "):\n"
    "    _POOL.AddSerializedFile(_dep.DESCRIPTOR.serialized_pb)\n"
    "DESCRIPTOR = _POOL.AddSerializedFile("
)


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) and write the patched module into ``out_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            PROTO_FILE,
        ]
        subprocess.run(cmd, check=True)
        generated = Path(tmp) / "clarifai" / "api"
        py = (generated / "resources_pb2.py").read_text()
        if _DEFAULT_POOL_LINE not in py:
            raise SystemExit("protoc output changed shape: cannot move it to a private pool")
        py = py.replace(_DEFAULT_POOL_LINE, _PRIVATE_POOL_LINES, 1)
        pyi = (generated / "resources_pb2.pyi").read_text()
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in (("resources_pb2.py", py), ("resources_pb2.pyi", pyi)):
            path = out_dir / name
            path.write_text(text)
            written.append(path)
        return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
