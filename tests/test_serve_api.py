"""clarifai-archive serve: the JSON API, pictures, actions and safety checks, through
Starlette's TestClient (no browser)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from PIL import Image  # noqa: E402
from serve_helpers import HOSTILE, HOSTILE_ID, png, vectors, write_serve_archive  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from toolkit.archive import ArchiveReader  # noqa: E402
from toolkit.catalog import Catalog  # noqa: E402
from toolkit.metrics import compute_metrics  # noqa: E402
from toolkit.serve.app import TOKEN_HEADER, ServeConfig, create_app  # noqa: E402
from toolkit.subset import FilterCriteria, filter_inputs  # noqa: E402

BASE = "http://127.0.0.1:8000"
N = 24


@pytest.fixture(name="archive")
def _archive(tmp_path: Path) -> Path:
    return write_serve_archive(tmp_path / "export.zip", N)


def _client(config: ServeConfig) -> TestClient:
    app = create_app(config)
    app.state.service.browser.wait_indexed(30)
    return TestClient(app, base_url=BASE)


@pytest.fixture(name="config")
def _config(tmp_path: Path, archive: Path) -> ServeConfig:
    out = tmp_path / "out"
    out.mkdir()
    return ServeConfig(archive=archive, output_root=out, auto_index=tmp_path / "idx" / "index")


@pytest.fixture(name="client")
def _client_fixture(config: ServeConfig):
    with _client(config) as client:
        yield client


def _ids(archive: Path) -> list[str]:
    with ArchiveReader(archive) as reader:
        return [r.id for r in reader.iter_inputs()]


def _page_ids(client: TestClient, **params) -> list[str]:
    client.get("/api/ids", params=params)  # waits for the query to finish
    ids = []
    page = 1
    while True:
        body = client.get("/api/inputs", params={**params, "page": page, "per_page": 7}).json()
        assert body["complete"]
        ids += [item["id"] for item in body["items"]]
        if page * 7 >= body["total"]:
            return ids
        page += 1


def _post(client: TestClient, name: str, body: dict, token: str, **headers: str):
    return client.post(f"/api/action/{name}", json=body, headers={TOKEN_HEADER: token, **headers})


class TestReading:
    def test_state_metrics_are_those_of_info(self, client, archive):
        state = client.get("/api/state").json()
        with ArchiveReader(archive) as reader:
            expected = compute_metrics(reader.iter_inputs()).to_dict()
        assert state["metrics"] == json.loads(json.dumps(expected))
        assert state["progress"]["done"] and state["rows"] == N + 2
        concepts = {c["id"]: c for c in state["concepts"]}
        assert concepts["cat"]["inputs"] == expected["concepts"]["cat"]["inputs"]
        assert concepts["evil"]["name"] == HOSTILE  # as data; the page shows it as text

    def test_pages_follow_the_archive_order(self, client, archive):
        assert _page_ids(client) == _ids(archive)
        body = client.get("/api/inputs", params={"page": 2, "per_page": 10}).json()
        assert [i["row"] for i in body["items"]] == list(range(10, 20))
        assert body["total"] == N + 2 and body["kind"] == "all"

    @pytest.mark.parametrize(
        ("params", "criteria"),
        [
            ({"concept": "cat"}, FilterCriteria(concepts=("cat",))),
            ({"concept": ["cat", "tree"]}, FilterCriteria(concepts=("cat", "tree"))),
            ({"no_concept": "dog"}, FilterCriteria(no_concepts=("dog",))),
            ({"metadata": "split=val"}, FilterCriteria(metadata=(("split", "val"),))),
            ({"metadata": "n=3"}, FilterCriteria(metadata=(("n", "3"),))),
            ({"type": "text"}, FilterCriteria(types=("text",))),
            ({"has_regions": "1"}, FilterCriteria(has_regions=True)),
            (
                {"concept": "dog", "has_regions": "1", "metadata": "split=train"},
                FilterCriteria(concepts=("dog",), has_regions=True, metadata=(("split", "train"),)),
            ),
        ],
    )
    def test_filters_keep_what_the_filter_command_keeps(
        self, client, archive, tmp_path, params, criteria
    ):
        out = tmp_path / "filtered.zip"
        filter_inputs(archive, out, criteria=criteria)
        expected = _ids(out) if out.exists() else []
        got = _page_ids(client, **params)
        assert got == expected
        assert got  # every case keeps something, so the comparison means something

    def test_bad_filter_is_a_clear_400(self, client):
        response = client.get("/api/inputs", params={"metadata": "no-equals-sign"})
        assert response.status_code == 400
        assert "KEY=VALUE" in response.json()["error"]
        assert client.get("/api/inputs", params={"per_page": "x"}).status_code == 400

    def test_all_matching_ids(self, client, archive):
        body = client.get("/api/ids", params={"concept": "dog"}).json()
        with ArchiveReader(archive) as reader:
            expected = [
                r.id for r in reader.iter_inputs() if FilterCriteria(concepts=("dog",)).matches(r)
            ]
        assert body["ids"] == expected and body["complete"]

    def test_what_needs_every_row_says_when_reading_is_not_done(self, client, monkeypatch):
        browser = client.app.state.service.browser
        monkeypatch.setattr(browser, "wait_indexed", lambda timeout=None, rows=None: False)
        response = client.get("/api/ids")
        assert response.status_code == 400
        assert "still reading the archive" in response.json()["error"]

    def test_input_view_has_every_shape_and_no_media_bytes(self, client):
        body = client.get("/api/input/0").json()
        assert body["id"] == "img-000"
        kinds = [shape["kind"] for region in body["regions"] for shape in region["shapes"]]
        assert sorted(kinds) == ["box", "mask", "point", "polygon"]
        assert body["width"] == 64 and body["height"] == 48
        image = body["json"]["data"]["image"]
        assert "base64" not in image and image["image_info"]["width"] == 64
        assert body["metadata"] == {"split": "train", "n": 0}
        box = next(r for r in body["regions"] if r["shapes"][0]["kind"] == "box")
        assert box["shapes"][0] == pytest.approx(
            {"kind": "box", "top": 0.1, "left": 0.1, "bottom": 0.5, "right": 0.6}
        )
        # one colour a concept: the box and the mask are both "dog"
        mask = next(r for r in body["regions"] if r["shapes"][0]["kind"] == "mask")
        assert mask["colour"] == box["colour"]

    def test_missing_row_is_404(self, client):
        assert client.get(f"/api/input/{N + 2}").status_code == 404
        assert client.get("/api/thumb/99999").status_code == 404
        assert client.get("/api/input/abc").status_code == 400


class TestPictures:
    def test_thumbnail_is_a_small_jpeg_and_cached(self, client, config):
        first = client.get("/api/thumb/3")
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(first.content)) as image:
            assert image.format == "JPEG" and image.size == (67, 48)
        cache = client.app.state.service.pictures.cache
        hits = cache.hits
        assert client.get("/api/thumb/3").content == first.content
        assert cache.hits == hits + 1

    def test_text_input_has_no_picture(self, client):
        assert client.get(f"/api/thumb/{N}").status_code == 404

    def test_mask_is_a_transparent_png(self, client):
        response = client.get("/api/mask/0/3")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.mode == "RGBA" and image.size == (32, 24)
            alpha = np.asarray(image)[..., 3]
        assert alpha[5, 5] > 0 and alpha[-1, -1] == 0
        assert client.get("/api/mask/0/0").status_code == 404  # a box, not a mask

    def test_media_folder_and_pixel_limit(self, tmp_path):
        from toolkit.archive import write_archive
        from toolkit.limits import Limits
        from toolkit.media import FileNamer
        from toolkit.messages import Input

        hosted = Input(id="hosted/1")
        hosted.data.image.url = "https://example.invalid/a.png"
        big = Input(id="big")
        big.data.image.base64 = png(300, 300, (1, 2, 3))
        archive = tmp_path / "h.zip"
        write_archive(archive, [hosted, big])
        media = tmp_path / "media"
        media.mkdir()
        (media / f"{FileNamer().stem_for('hosted/1')}.png").write_bytes(png(20, 10, (9, 9, 9)))
        config = ServeConfig(
            archive=archive,
            output_root=tmp_path,
            media_dir=media,
            limits=Limits(max_image_pixels=50_000),
        )
        with _client(config) as client:
            assert client.get("/api/thumb/0").status_code == 200  # from the media folder
            assert client.get("/api/thumb/1").status_code == 404  # over the pixel limit


class TestSimilar:
    def test_more_like_this_ranks_by_cosine(self, client):
        body = client.get("/api/inputs", params={"like": "img-005", "per_page": 500}).json()
        assert body["kind"] == "similar" and body["complete"]
        vecs = vectors(N + 1)
        ids = [f"img-{i:03d}" for i in range(N)] + ["txt-000"]
        unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        scores = unit @ unit[5]
        order = [i for i in np.argsort(-scores, kind="stable") if i != 5]
        assert [item["id"] for item in body["items"]] == [ids[i] for i in order]
        np.testing.assert_allclose(
            [item["score"] for item in body["items"]], scores[order], rtol=1e-5, atol=1e-6
        )
        everything = client.get("/api/ids", params={"like": "img-005"}).json()
        assert everything["ids"] == [ids[i] for i in order]
        assert everything["scores"] == pytest.approx([item["score"] for item in body["items"]])

    def test_without_embedding_is_a_clear_error(self, client):
        response = client.get("/api/inputs", params={"like": HOSTILE_ID})
        assert response.status_code == 404
        assert "not in the similarity index" in response.json()["error"]

    def test_index_given(self, tmp_path, archive):
        from toolkit.index import build_index

        build_index([archive], tmp_path / "my-index", kind="flat")
        config = ServeConfig(archive=archive, output_root=tmp_path, index=tmp_path / "my-index")
        with _client(config) as client:
            state = client.get("/api/state").json()
            assert state["similarity"]["available"] and state["similarity"]["inputs"] == N + 1
            body = client.get("/api/inputs", params={"like": "img-001", "per_page": 3}).json()
            assert len(body["items"]) == 3

    def test_no_index_no_embeddings(self, tmp_path, make_archive):
        from helpers import make_input

        archive = make_archive([make_input("a", image_bytes=b"x")])
        config = ServeConfig(archive=archive, output_root=tmp_path, auto_index=tmp_path / "i")
        with _client(config) as client:
            response = client.get("/api/inputs", params={"like": "a"})
            assert response.status_code == 400
            assert "no embeddings" in response.json()["error"]


class TestSafety:
    def test_post_needs_the_token(self, client, config):
        body = {"ids": ["img-000"], "name": "x", "format": "jsonl"}
        assert client.post("/api/action/export", json=body).status_code == 403
        assert _post(client, "export", body, "wrong").status_code == 403
        assert not any(config.output_root.iterdir())

    def test_token_is_in_the_page_only(self, client, config):
        page = client.get("/").text
        assert f'content="{config.token}"' in page
        assert config.token not in json.dumps(client.get("/api/state").json())

    def test_cross_origin_post_refused(self, client, config):
        body = {"ids": ["img-000"], "name": "x", "format": "jsonl"}
        response = _post(client, "export", body, config.token, Origin="http://evil.example")
        assert response.status_code == 403
        same = _post(client, "export", body, config.token, Origin="http://127.0.0.1:8000")
        assert same.status_code == 200

    def test_other_host_header_refused(self, config):
        app = create_app(config)
        app.state.service.browser.wait_indexed(30)
        with TestClient(app, base_url="http://rebound.example:8000") as client:
            assert client.get("/api/state").status_code == 400
            assert client.get("/").status_code == 400

    def test_security_headers(self, client):
        response = client.get("/")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert client.get("/api/thumb/0").headers["x-content-type-options"] == "nosniff"

    def test_hostile_strings_are_data(self, client):
        row = N + 1
        body = client.get(f"/api/input/{row}").json()
        assert body["id"] == HOSTILE_ID
        assert body["metadata"] == {"note": HOSTILE, HOSTILE: "key"}
        assert body["regions"][0]["concepts"][0]["name"] == HOSTILE
        assert client.get("/api/inputs", params={"concept": "evil"}).json()["items"][0]["id"] == (
            HOSTILE_ID
        )
        page = client.get("/").text
        assert "pwned" not in page  # the page itself holds no archive string
        response = client.get("/api/state")
        assert response.headers["content-type"].startswith("application/json")

    def test_key_never_reaches_the_browser(self, tmp_path, archive, monkeypatch):
        key = "sk-serve-test-key-0123456789"
        monkeypatch.setenv("CLARIFAI_PAT", key)
        config = ServeConfig(
            archive=archive, output_root=tmp_path, download=True, pat=key, auto_index=None
        )
        with _client(config) as client:
            bodies = [
                client.get("/").text,
                client.get("/api/state").text,
                client.get("/api/inputs").text,
                client.get(f"/api/input/{N + 1}").text,
                client.get("/api/inputs", params={"like": "img-001"}).text,
                _post(client, "export", {"ids": ["x"], "name": "../x"}, config.token).text,
            ]
        assert not any(key in body for body in bodies)
        assert key not in repr(config) and key not in repr(client.app.state.service.pictures)

    @pytest.mark.parametrize(
        "name", ["../escape", "/tmp/abs", "a/b", ".hidden", "", "-opt", "a..b"]
    )
    def test_output_names_stay_inside(self, client, config, tmp_path, name):
        body = {"ids": ["img-000"], "name": name, "format": "jsonl"}
        response = _post(client, "export", body, config.token)
        assert response.status_code == 400
        assert "not a plain output name" in response.json()["error"]
        assert not any(config.output_root.iterdir())
        assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip", "idx", "out"]


class TestActions:
    def test_export_jsonl_of_the_selection(self, client, config):
        ids = ["img-003", HOSTILE_ID, "txt-000"]
        body = {"ids": ids, "name": "picked", "format": "jsonl"}
        result = _post(client, "export", body, config.token).json()
        out = config.output_root / "picked.jsonl"
        assert result["output"] == str(out.resolve())
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert [line["id"] for line in lines] == ["img-003", "txt-000", HOSTILE_ID]
        assert result["report"]["written"] == 3 and result["report"]["selected"] == 3
        ids_file = config.output_root / "picked.jsonl.ids.txt"
        assert ids_file.read_text().splitlines() == ids
        assert "filter" in result["command"] and "--to jsonl" in result["command"]
        assert str(ids_file.resolve()) in result["command"] or str(ids_file) in result["command"]
        again = _post(client, "export", body, config.token)
        assert again.status_code == 400 and "already exists" in again.json()["error"]

    def test_export_coco_with_media(self, client, config):
        body = {
            "ids": ["img-000", "img-003"],
            "name": "coco",
            "format": "coco",
            "media": "embedded",
        }
        result = _post(client, "export", body, config.token).json()
        folder = config.output_root / "coco"
        # The archive's inputs carry split metadata: one annotation file per split.
        images = [
            image
            for path in sorted(folder.glob("instances_*.json"))
            for image in json.loads(path.read_text())["images"]
        ]
        assert sorted(i["file_name"].rsplit("/", 1)[-1] for i in images) == [
            "img-000.png",
            "img-003.png",
        ]
        assert result["report"]["images"] == 2 and "--media embedded" in result["command"]

    def test_write_without_and_with_only(self, client, config, archive):
        ids = ["img-001", "img-002"]
        without = _post(client, "remove", {"ids": ids, "name": "rest"}, config.token).json()
        assert _ids(config.output_root / "rest.zip") == [i for i in _ids(archive) if i not in ids]
        assert without["report"]["inputs_removed"] == 2 and " remove " in without["command"]
        only = _post(client, "filter", {"ids": ids, "name": "only.zip"}, config.token).json()
        assert _ids(config.output_root / "only.zip") == ids
        assert " filter " in only["command"]

    def test_version_actions_need_the_catalog(self, client, config):
        response = _post(client, "version-without", {"ids": ["img-001"]}, config.token)
        assert response.status_code == 400 and "catalog" in response.json()["error"]

    def test_catalog_versions_and_merge(self, tmp_path, archive):
        home = tmp_path / "home"
        catalog = Catalog(home)
        catalog.datasets.add(archive, dataset="birds", version="v1")
        other = write_serve_archive(tmp_path / "other.zip", 2)
        catalog.datasets.add(other, dataset="extra", version="e1")
        catalog.close()
        config = ServeConfig(
            archive=Catalog(home).resolve("birds@v1"),
            output_root=tmp_path / "out2",
            ref="birds@v1",
            home=home,
        )
        (tmp_path / "out2").mkdir()
        every = _ids(archive)
        with _client(config) as client:
            token = config.token
            made = _post(client, "version-without", {"ids": ["img-001"]}, token).json()
            assert made["report"]["inputs_count"] == len(every) - 1
            assert made["command"].startswith("clarifai-archive --home ")
            assert "inputs delete birds@v1 --ids-from" in made["command"]
            kept = _post(client, "version-only", {"ids": ["img-004", "img-007"]}, token).json()
            merged = _post(
                client,
                "merge",
                {"ids": ["img-010", "img-011"], "into": "extra", "on_conflict": "skip"},
                token,
            ).json()
        catalog = Catalog(home)
        assert _ids(catalog.resolve(made["output"])) == [i for i in every if i != "img-001"]
        assert _ids(catalog.resolve(kept["output"])) == ["img-004", "img-007"]
        merged_ids = _ids(catalog.resolve(merged["output"]))
        assert merged_ids == _ids(other) + ["img-010", "img-011"]
        assert "datasets merge birds@v1 --into extra" in merged["command"]
        catalog.close()

    def test_empty_selection(self, client, config):
        response = _post(client, "export", {"ids": [], "name": "e"}, config.token)
        assert response.status_code == 400 and "empty" in response.json()["error"]
        response = _post(client, "nope", {"ids": ["a"]}, config.token)
        assert response.status_code == 400
        bad = client.post(
            "/api/action/export", content=b"not json", headers={TOKEN_HEADER: config.token}
        )
        assert bad.status_code == 400


class TestDownloads:
    def test_hosted_copy_with_the_key_url_without(self, tmp_path):
        from media_helpers import hosted_input, image_bytes, url_input
        from media_server import MediaServer

        from toolkit.archive import write_archive

        key = "serve-key-4242"
        with MediaServer({"/orig/a.png": image_bytes(1, size=(30, 20))}, key=key) as server:
            server.add("/plain.png", image_bytes(2, size=(10, 10)), key=None)
            archive = tmp_path / "hosted.zip"
            write_archive(
                archive,
                [
                    hosted_input("h1", server.url(""), "a.png"),
                    url_input("u1", server.url("/plain.png")),
                ],
            )
            off = ServeConfig(archive=archive, output_root=tmp_path)
            with _client(off) as client:  # without --download nothing is fetched
                assert client.get("/api/thumb/0").status_code == 404
            assert server.requests_for("/orig/a.png") == []
            on = ServeConfig(archive=archive, output_root=tmp_path, download=True, pat=key)
            with _client(on) as client:
                hosted = client.get("/api/thumb/0")
                plain = client.get("/api/thumb/1")
                assert key not in client.get("/api/input/0").text
            assert hosted.status_code == 200 and plain.status_code == 200
            with Image.open(io.BytesIO(hosted.content)) as image:
                assert image.size == (30, 20)
            assert server.requests_for("/orig/a.png")[0].header("Authorization") == f"Key {key}"
            assert server.requests_for("/plain.png")[0].header("Authorization") is None


def test_pages_are_served_while_the_archive_is_read(tmp_path, archive):
    """The first page answers after the first batch entry, before the rest is read."""
    import threading

    from toolkit.serve import ArchiveBrowser

    release = threading.Event()

    def hold_after_first_entry(progress):
        if not progress.done:
            release.wait(30)

    browser = ArchiveBrowser(archive, progress=hold_after_first_entry)
    config = ServeConfig(archive=archive, output_root=tmp_path)
    try:
        with TestClient(create_app(config, browser=browser), base_url=BASE) as client:
            first = client.get("/api/inputs", params={"page": 1, "per_page": 5}).json()
            assert [item["id"] for item in first["items"]] == [f"img-{i:03d}" for i in range(5)]
            assert not first["complete"] and first["total"] == 5  # one entry of 5 read
            later = client.get("/api/inputs", params={"page": 2, "per_page": 5}).json()
            assert later["items"] == [] and not later["complete"]
            release.set()
            browser.wait_indexed(30)
            done = client.get("/api/inputs", params={"page": 2, "per_page": 5}).json()
            assert [item["row"] for item in done["items"]] == [5, 6, 7, 8, 9]
            assert done["complete"] and done["total"] == N + 2
    finally:
        release.set()
