"""clarifai-archive serve in a real browser: the system's Chromium, headless, driven by
Playwright. Each step leaves a screenshot in $SERVE_SCREENSHOTS (default: the test's
tmp folder, under ``screenshots/``).

Skipped, saying why, when Playwright or Chromium is missing (``.ci/run`` installs the
``chromium`` package, so CI runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

from serve_helpers import HOSTILE, HOSTILE_ID, vectors, write_serve_archive  # noqa: E402

from toolkit.archive import ArchiveReader  # noqa: E402
from toolkit.serve.app import ServeConfig, create_app  # noqa: E402
from toolkit.subset import FilterCriteria, filter_inputs  # noqa: E402

N = 24
CHROMIUM = next(
    (p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on this machine (apt-get install chromium; .ci/run does it)",
)


def _ids(path: Path) -> list[str]:
    with ArchiveReader(path) as reader:
        return [r.id for r in reader.iter_inputs()]


@pytest.fixture(name="served")
def _served(tmp_path: Path):
    archive = write_serve_archive(tmp_path / "export.zip", N)
    out = tmp_path / "out"
    out.mkdir()
    config = ServeConfig(archive=archive, output_root=out, auto_index=tmp_path / "idx" / "i")
    app = create_app(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/", archive, out
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(name="shots")
def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SERVE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _card_ids(page) -> list[str]:
    return page.eval_on_selector_all("#grid .card", "nodes => nodes.map(n => n.dataset.id)")


def test_browse_filter_view_similar_select_export(served, shots, tmp_path):
    url, archive, out = served
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # 1. the grid
        page.goto(url)
        expect(page.locator("#grid .card")).to_have_count(26)
        expect(page.locator("#metrics dd").first).to_have_text("26")
        assert _card_ids(page) == _ids(archive)
        for n in range(N + 2):
            image = page.locator("#grid .card").nth(n).locator("img")
            if image.count():
                expect(image).to_have_js_property("complete", True)
        page.screenshot(path=str(shots / "01-grid.png"))

        # hostile ids, names and metadata are shown as text, never run
        hostile = page.locator("#grid .card").nth(N + 1)
        assert hostile.locator(".id").text_content() == HOSTILE_ID
        assert page.locator("#grid script").count() == 0
        assert page.locator('#grid img[src="x"]').count() == 0
        concept_names = page.eval_on_selector_all(
            "#concepts button.concept", "nodes => nodes.map(n => n.firstChild.textContent)"
        )
        assert any("<script>" in name for name in concept_names)
        hostile.locator(".open").click()
        expect(page.locator("#viewer-id")).to_have_text(HOSTILE_ID)
        expect(page.locator("#stage svg .shape")).to_have_count(1)
        assert page.locator("#stage svg title").text_content() == HOSTILE
        assert json.loads(page.locator("#viewer-metadata").text_content()) == {
            "note": HOSTILE,
            HOSTILE: "key",
        }
        assert page.locator("#viewer script").count() == 0
        page.screenshot(path=str(shots / "01b-hostile-input.png"))
        page.click("#viewer-close")
        assert page.title().endswith("clarifai-archive serve")

        # selection: a click, a shift-click range, select page, none
        page.locator("#grid .card").nth(1).click()
        page.locator("#grid .card").nth(5).click(modifiers=["Shift"])
        expect(page.locator("#selection-info")).to_have_text("5 selected")
        assert page.eval_on_selector_all(
            "#grid .card.selected", "nodes => nodes.map(n => n.dataset.id)"
        ) == [f"img-{i:03d}" for i in range(1, 6)]
        page.locator("#grid .card").nth(3).click()  # a plain click toggles one
        expect(page.locator("#selection-info")).to_have_text("4 selected")
        page.click("#select-page")
        expect(page.locator("#selection-info")).to_have_text("26 selected")
        page.click("#select-none")
        expect(page.locator("#grid .card.selected")).to_have_count(0)

        # a metric of the side panel is a filter too
        page.click("#metrics .metric-filter >> text=type text")
        expect(page.locator("#grid .card")).to_have_count(1)
        assert _card_ids(page) == ["txt-000"]
        page.click("#clear-filters")
        expect(page.locator("#grid .card")).to_have_count(26)

        # 2. filter by a concept (side panel)
        page.click('#concepts button.concept[data-concept="cat"]')
        filtered = tmp_path / "cats.zip"
        filter_inputs(archive, filtered, criteria=FilterCriteria(concepts=("cat",)))
        expected = _ids(filtered)
        expect(page.locator("#grid .card")).to_have_count(len(expected))
        assert _card_ids(page) == expected
        page.screenshot(path=str(shots / "02-filter-cat.png"))
        page.click("#select-all")  # every input matching the filter
        expect(page.locator("#selection-info")).to_have_text(f"{len(expected)} selected")
        page.click("#select-none")

        # 3. open an input: its four regions drawn (box, polygon, point, mask)
        page.click('#grid .card[data-id="img-003"] .open')
        page.wait_for_selector("#stage svg")
        assert page.locator("#stage svg .shape").count() == 4
        kinds = page.eval_on_selector_all(
            "#stage svg .shape", "nodes => nodes.map(n => n.tagName).sort()"
        )
        assert kinds == ["circle", "image", "polygon", "rect"]
        assert page.locator("#stage svg title").first.text_content() == "Cat"
        page.wait_for_timeout(200)  # let the mask picture paint
        page.screenshot(path=str(shots / "03-input.png"))

        # 4. more like this: re-sorted by score
        page.click("#viewer-similar")
        expect(page.locator("#grid .card .score")).to_have_count(N)
        expect(page.locator("#threshold-value")).not_to_have_text("")
        vecs = vectors(N + 1)
        unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        scores = unit @ unit[3]
        order = [int(i) for i in np.argsort(-scores, kind="stable") if i != 3]
        ids = [f"img-{i:03d}" for i in range(N)] + ["txt-000"]
        assert _card_ids(page) == [ids[i] for i in order]
        shown = float(page.locator("#grid .card .score").first.text_content())
        assert shown == pytest.approx(scores[order[0]], abs=1e-3)
        page.screenshot(path=str(shots / "04-more-like-this.png"))

        # 5. select everything above a threshold
        threshold = float(scores[order[4]]) - 1e-6
        page.eval_on_selector(
            "#threshold",
            "(el, v) => { el.min = '-1'; el.step = 'any'; el.value = String(v); "
            "el.dispatchEvent(new Event('input')); }",
            threshold,
        )
        page.click("#select-above")
        assert page.locator("#selection-info").text_content() == "5 selected"
        assert page.locator("#grid .card.selected").count() == 5
        page.screenshot(path=str(shots / "05-selected-above.png"))

        # 6. export the selection, then check it on disk
        page.select_option("#action-format", "jsonl")
        page.fill("#action-name", "browser-export")
        page.click("#do-export")
        expect(page.locator("#action-command")).not_to_have_text("")
        page.screenshot(path=str(shots / "06-export.png"), full_page=True)
        command = page.locator("#action-command").text_content()
        browser.close()
    exported = out / "browser-export.jsonl"
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    chosen = {ids[i] for i in order[:5]}
    assert {line["id"] for line in lines} == chosen and len(lines) == 5
    assert "convert selection.zip --to jsonl" in command
    assert errors == [] and dialogs == []  # no script from the archive ran
    assert sorted(p.name for p in shots.glob("0*.png")) == [
        "01-grid.png",
        "01b-hostile-input.png",
        "02-filter-cat.png",
        "03-input.png",
        "04-more-like-this.png",
        "05-selected-above.png",
        "06-export.png",
    ]
