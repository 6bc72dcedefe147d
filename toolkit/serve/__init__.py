"""``clarifai-archive serve``: browse an archive in a local web app, select, act.

Needs the ``serve`` extra (Starlette and uvicorn): ``pip install
'clarifai-archive-toolkit[serve]'``. :class:`ArchiveBrowser` (no web framework needed)
reads the archive in the background and answers pages, filters and similarity
searches; :func:`~toolkit.serve.app.create_app` puts JSON routes and a static page over it.

Example::

    from toolkit.serve import ArchiveBrowser

    with ArchiveBrowser("clarifai-data-protobuf.zip") as browser:
        browser.wait_indexed()
        first = browser.inputs(range(20))
"""

from __future__ import annotations

from .actions import ActionResult, Actions, check_output_name
from .state import ArchiveBrowser, IndexProgress, Query, find_index_beside

__all__ = [
    "ActionResult",
    "Actions",
    "ArchiveBrowser",
    "IndexProgress",
    "Query",
    "check_output_name",
    "find_index_beside",
]
