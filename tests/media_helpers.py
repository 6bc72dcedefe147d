"""Helpers for the media tests: small real images and inputs that point at a server."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from toolkit.messages import Input

KEY = "test-key-7f3a9c0d1e2b4a5f"


def image_bytes(n: int = 0, *, fmt: str = "PNG", size: tuple[int, int] = (12, 9)) -> bytes:
    """A small real image, different for each ``n``."""
    out = io.BytesIO()
    Image.new("RGB", size, (n * 37 % 256, n * 11 % 256, 200)).save(out, fmt)
    return out.getvalue()


def hosted_input(
    input_id: str, prefix: str, suffix: str, *, kind: str = "image", fmt: str = ""
) -> Input:
    """An input whose only media is a hosted copy at ``{prefix}/orig/{suffix}``."""
    record = Input(id=input_id)
    media = getattr(record.data, kind)
    media.hosted.prefix = prefix
    media.hosted.suffix = suffix
    media.hosted.sizes.extend(["orig", "small"])
    if fmt and kind == "image":
        media.image_info.format = fmt
    return record


def url_input(input_id: str, url: str, *, kind: str = "image") -> Input:
    """An input whose only media is a plain URL."""
    record = Input(id=input_id)
    getattr(record.data, kind).url = url
    return record


def served_url_inputs(server: Any, count: int) -> list[Input]:
    """``count`` url inputs, each for a small image ``server`` now serves at ``/<n>.png``."""
    records = []
    for n in range(count):
        server.add(f"/{n}.png", image_bytes(n))
        records.append(url_input(f"i{n}", server.url(f"/{n}.png")))
    return records


def embedded_input(input_id: str, data: bytes, *, kind: str = "image") -> Input:
    """An input carrying its media bytes inside the archive."""
    record = Input(id=input_id)
    if kind == "text":
        record.data.text.raw = data.decode()
    else:
        getattr(record.data, kind).base64 = data
    return record


def all_names(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden ones included, sorted."""
    return sorted(os.listdir(folder))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Wait for ``condition()`` to hold; False after ``timeout`` seconds.

    For states that stay once reached (a file written, a request held at the server), so
    the outcome does not depend on when it is checked.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True
