"""Assemble README.md from its parts, docs/readme/00-head.md and 99-tail.md.

Usage: python scripts/build_readme.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The README is short (at most 300 lines, tests/test_docs.py): what the toolkit is, install, the
# quick tour, a Python quick start, exit codes and links. The guide pages (docs/readme/*.md, the
# other pages of docs/) are the documentation site, mkdocs.yml.
PARTS = ["00-head.md", "99-tail.md"]


def build() -> str:
    """The README text."""
    texts = [(ROOT / "docs" / "readme" / name).read_text().strip() + "\n" for name in PARTS]
    return "\n".join(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Fail when README.md is stale.")
    args = parser.parse_args()
    text = build()
    readme = ROOT / "README.md"
    if args.check:
        if readme.read_text() != text:
            sys.exit("README.md is stale: run python scripts/build_readme.py")
        return
    readme.write_text(text)
    print(readme)


if __name__ == "__main__":
    main()
