"""Find the Clarifai personal access token (PAT) without ever showing it."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MediaError
from ..safety import register_secret

__all__ = ["PAT_ENV", "read_pat"]

#: The environment variable the Clarifai SDK reads its key from.
PAT_ENV = "CLARIFAI_PAT"


def read_pat(pat_file: Path | None = None) -> str | None:
    """The key from the first line of ``pat_file``, else ``$CLARIFAI_PAT``, else None.

    A file named explicitly must exist and hold a key; messages never include it.

    Example::

        pat = read_pat(Path("~/.clarifai-pat").expanduser())
    """
    if pat_file is not None:
        path = Path(pat_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise MediaError(f"{path}: cannot read the key file ({reason})") from None
        lines = text.splitlines()
        key = lines[0].strip() if lines else ""
        if not key:
            raise MediaError(f"{path}: the first line of the key file is empty; put the PAT there")
        _check(key, f"{path}")
        register_secret(key)  # every Error: line of the CLI now hides it too
        return key
    key = os.environ.get(PAT_ENV, "").strip()
    if not key:
        return None
    _check(key, f"${PAT_ENV}")
    return key


def _check(key: str, where: str) -> None:
    # The key goes into an HTTP header: refuse anything that could split it.
    if any(ord(ch) < 33 or ord(ch) > 126 for ch in key):
        raise MediaError(f"{where}: the key holds spaces or characters a key cannot have")
