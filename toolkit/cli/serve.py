"""``clarifai-archive serve``: a local web app over an archive or a catalog version."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from ._common import ARCHIVE, catalog_ref, get_context, json_option, open_catalog

_INSTALL = "pip install 'clarifai-archive-toolkit[serve]'"
#: The interpreter's thread switch interval while serving (seconds).
SWITCH_INTERVAL_S = 0.001


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it (Linux): without it, uvicorn's two writes per answer
    # (head, then body) meet the client's delayed ACK and a kept-alive request waits ~40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
            "(or leave it out for a free one)"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Similarity index for 'more like this' (default: <archive>-index/ beside the "
    "archive, else one built on start from the archive's embeddings when it is small).",
)
@click.option(
    "--media-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of media files named by input id (as 'convert --media' writes them), for "
    "inputs whose media is not embedded.",
)
@click.option(
    "--download",
    is_flag=True,
    help="Fetch hosted copies (with the key) and URLs for pictures, by the rules of "
    "'convert --media download'.",
)
@click.option(
    "--pat-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File whose first line is the Clarifai key (default: $CLARIFAI_PAT); --download only.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The folder actions write into (exports, archives, id lists); the page names files "
    "only inside it.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port to listen on (default: a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback lets other machines in (a warning).",
)
@click.option(
    "--no-index-build",
    is_flag=True,
    help="Do not index the archive's embeddings on start when no index is given.",
)
@json_option('Print {"url": ...} as one JSON document instead of the bare URL.')
def serve(
    archive: str,
    index_dir: Path | None,
    media_dir: Path | None,
    download: bool,
    pat_file: Path | None,
    output_dir: Path,
    port: int,
    host: str,
    no_index_build: bool,
    as_json: bool,
) -> None:
    """Browse ARCHIVE (or a catalog DATASET[@VERSION]) in a local web app: a grid of
    thumbnails, filters, the input view with its regions, "more like this", and actions
    on a selection (export, new version, merge) that print the command they match.

    The URL is printed on standard output; nothing is opened. The server listens on
    127.0.0.1 only, unless --host says otherwise. Stop it with Ctrl-C.

    \b
    Example:
        clarifai-archive serve clarifai-data-protobuf.zip
        clarifai-archive serve birds@v1 --index birds-index --port 8765
        clarifai-archive serve export.zip --media-dir images --output-dir exports
    """
    try:
        import uvicorn

        from ..serve.app import ServeConfig, create_app
    except ImportError as exc:
        raise click.ClickException(
            f"the web app needs Starlette and uvicorn ({exc.name} is missing): {_INSTALL}"
        ) from None
    if pat_file is not None and not download:
        raise click.UsageError("--pat-file goes with --download")
    context = get_context()
    ref = catalog_ref(archive)
    if ref is not None:
        catalog = open_catalog()
        version = catalog.version(ref)
        path = catalog.resolve(ref)
        shown_ref: str | None = version.ref
    else:
        path, shown_ref = Path(archive), None
    from ..serve import find_index_beside

    if index_dir is None and ref is None:
        index_dir = find_index_beside(path)
    pat = None
    if download:
        from ..media import read_pat

        pat = read_pat(pat_file)
    if not _is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: other machines can reach this server (the "
            "token guards changes, not reading); use the default 127.0.0.1 unless needed",
            err=True,
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    # The archive is read in a background thread while requests are answered: hand the
    # interpreter lock over every 1 ms instead of 5, so a page waits less behind the reading.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    scratch = (
        None
        if (index_dir is not None or no_index_build)
        else tempfile.mkdtemp(prefix="clarifai-archive-serve-")
    )
    quiet = context.quiet or not sys.stderr.isatty()
    service: Any = None
    try:
        config = ServeConfig(
            archive=path,
            output_root=output_dir,
            ref=shown_ref,
            name=shown_ref or archive,
            index=index_dir,
            media_dir=media_dir,
            download=download,
            pat=pat,
            home=context.home,
            limits=context.limits,
            hosts=() if _is_loopback(host) else (host,),
            auto_index=Path(scratch) / "index" if scratch else None,
        )
        app = create_app(config)
        service = app.state.service
        if not quiet:
            service.browser.add_progress_listener(_progress_line)
        sock = _bind(host, port)
        bound = sock.getsockname()[1]
        shown_host = f"[{host.strip('[]')}]" if ":" in host else host
        url = f"http://{shown_host}:{bound}/"
        if as_json:
            click.echo(json.dumps({"url": url}))  # one line: a launcher reads it at once
        else:
            click.echo(url)
        sys.stdout.flush()
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        )
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # Ctrl-C (or SIGTERM) is how a server is stopped: not a failure
        finally:
            sock.close()
        if not context.quiet:
            click.echo("Stopped.", err=True)
    finally:
        if service is not None:
            # The app closes these on shutdown; a server that never started did not, and the
            # background index must stop before its scratch folder goes.
            service.pictures.close()
            service.browser.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _progress_line(progress: Any) -> None:
    """One updating line on stderr while the archive is read."""
    if progress.done:
        line = f"Read {progress.inputs} inputs ({progress.entries_total} batch entries) in " + (
            f"{progress.seconds:.1f} s"
        )
        if progress.error:
            line = f"Reading stopped: {progress.error}"
        sys.stderr.write("\r" + line + " " * 10 + os.linesep)
    else:
        sys.stderr.write(
            f"\rReading: {progress.entries_done}/{progress.entries_total} batch entries, "
            f"{progress.inputs} inputs"
        )
    sys.stderr.flush()
