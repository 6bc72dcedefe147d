"""MkDocs hooks (mkdocs.yml ``hooks:``): the repository's own files become site pages.

- ``index.md`` is README.md, its links to ``docs/...`` made relative to the docs folder, so
  the README is written once and reads right on GitHub and on the site;
- ``SECURITY.md`` and ``CHANGELOG.md`` are the files at the repository's root;
- the guide pages (``docs/readme/*.md``) start at ``##`` (they were once README sections):
  their headings move up one level, so each page has one ``#`` title.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent
ROOT_PAGES = {"index.md": "README.md", "SECURITY.md": "SECURITY.md", "CHANGELOG.md": "CHANGELOG.md"}
_DOCS_LINK = re.compile(r"\]\(docs/")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{2,6}) ")


def readme_as_home(text: str) -> str:
    """README.md with ``](docs/page.md)`` links as ``](page.md)``."""
    return _DOCS_LINK.sub("](", text)


def promote_headings(markdown: str) -> str:
    """Every ATX heading one level up, outside fenced code, when the page has no ``#`` title."""
    lines = markdown.splitlines()
    inside = False
    headings: list[int] = []
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            inside = not inside
        elif not inside and line.startswith("#"):
            if line.startswith("# "):
                return markdown
            if _HEADING.match(line):
                headings.append(number)
    for number in headings:
        lines[number] = lines[number][1:]
    return "\n".join(lines) + "\n"


def on_files(files: Files, config: Any) -> Files:
    from mkdocs.structure.files import File

    for uri, source in ROOT_PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        if uri == "index.md":
            text = readme_as_home(text)
        files.append(File.generated(config, uri, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith("readme/"):
        return promote_headings(markdown)
    return markdown
