"""Regenerate toolkit/_proto/*_pb2.py(.pyi) from the .proto files under proto/.

The generated modules register their messages in one private descriptor pool
(``toolkit/_proto/_pool.py``), so that the toolkit and Clarifai's own ``clarifai-grpc``
package (which defines the same ``clarifai.api`` names in the default pool) can be
imported in one process. They sit side by side in ``toolkit/_proto`` and import each
other relatively. ``scripts/gen_schema.py`` writes the .proto files from clarifai-grpc.

Usage: python scripts/gen_proto.py [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
DEFAULT_OUT = ROOT / "toolkit" / "_proto"

_DEFAULT_POOL_LINE = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
_PRIVATE_POOL_LINES = (
    "# Edited by scripts/gen_proto.py: a private pool, so clarifai-grpc can be imported too.\n"
    "from ._pool import POOL as _POOL  # noqa: E402\n"
    "DESCRIPTOR = _POOL.AddSerializedFile("
)
_POOL_MODULE = '''"""The private descriptor pool of the generated modules (scripts/gen_proto.py)."""

from google.protobuf import descriptor_pool as _descriptor_pool
{imports}

POOL = _descriptor_pool.DescriptorPool()
for _dep in ({deps}):
    POOL.AddSerializedFile(_dep.DESCRIPTOR.serialized_pb)
'''
_WELL_KNOWN = re.compile(r'^import "google/protobuf/(\w+)\.proto";', re.MULTILINE)
#: ``from clarifai.api.status import status_pb2 as ...`` -> ``from . import status_pb2 as ...``
_OWN_IMPORT = re.compile(r"^from [\w.]+ import (\w+_pb2) as", re.MULTILINE)
_OWN_PLAIN_IMPORT = re.compile(r"^import (\w+_pb2) as", re.MULTILINE)


def proto_files() -> list[str]:
    """The .proto files under proto/, relative to it, sorted."""
    return sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))


def _pool_module(files: list[str]) -> str:
    names: set[str] = set()
    for name in files:
        names.update(_WELL_KNOWN.findall((PROTO_DIR / name).read_text()))
    modules = [f"{n}_pb2" for n in sorted(names)]
    imports = "\n".join(f"from google.protobuf import {m}" for m in modules)
    deps = ", ".join(modules) + ("," if len(modules) == 1 else "")
    return _POOL_MODULE.format(imports=imports, deps=deps)


def _relative_imports(text: str, own: set[str]) -> str:
    def fix(match: re.Match[str]) -> str:
        module = match.group(1)
        if module not in own:
            return match.group(0)
        return f"from . import {module} as"

    text = _OWN_IMPORT.sub(fix, text)
    return _OWN_PLAIN_IMPORT.sub(fix, text)


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) and write the patched modules into ``out_dir``."""
    files = proto_files()
    stems = [Path(name).stem for name in files]
    if len(set(stems)) != len(stems):
        raise SystemExit("two .proto files share a name: toolkit/_proto holds them side by side")
    own = {f"{stem}_pb2" for stem in stems}
    outputs: dict[str, str] = {"_pool.py": _pool_module(files)}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            *files,
        ]
        subprocess.run(cmd, check=True)
        for name in files:
            generated = Path(tmp) / Path(name).with_suffix("")
            py = generated.with_name(generated.name + "_pb2.py").read_text()
            if _DEFAULT_POOL_LINE not in py:
                raise SystemExit("protoc output changed shape: cannot move it to a private pool")
            py = py.replace(_DEFAULT_POOL_LINE, _PRIVATE_POOL_LINES, 1)
            pyi = generated.with_name(generated.name + "_pb2.pyi").read_text()
            outputs[f"{generated.name}_pb2.py"] = _relative_imports(py, own)
            outputs[f"{generated.name}_pb2.pyi"] = _relative_imports(pyi, own)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(outputs.items()):
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    for old in sorted(out_dir.glob("*_pb2.py*")):
        if old.name not in outputs:
            old.unlink()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
