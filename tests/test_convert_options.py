"""convert_archives takes its settings as one frozen ConvertOptions (or, as before, as
keyword arguments); errors name the library's parameters."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import toolkit
from toolkit.convert import FORMATS, ConvertJob, ConvertOptions, convert_archives
from toolkit.convert.jsonl import JsonLinesConverter


def test_options_and_keywords_write_the_same_bytes(sample_archive: Path, tmp_path: Path) -> None:
    by_options = tmp_path / "a.zip"
    by_keywords = tmp_path / "b.zip"
    options = ConvertOptions(batch_size=7, split="train")
    convert_archives([sample_archive], by_options, to="json", options=options)
    convert_archives([sample_archive], by_keywords, to="json", batch_size=7, split="train")
    assert by_options.read_bytes() == by_keywords.read_bytes()
    default = tmp_path / "c.zip"
    convert_archives([sample_archive], default, to="json")
    assert default.read_bytes() != by_options.read_bytes()


def test_keywords_apply_over_options(
    sample_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[ConvertOptions] = []

    class Spy(JsonLinesConverter):
        def __init__(self, job: ConvertJob) -> None:
            seen.append(job.options)
            super().__init__(job)

    monkeypatch.setitem(FORMATS, "jsonl", Spy)
    base = ConvertOptions(timeout=5.0, retries=1)
    convert_archives([sample_archive], tmp_path / "o.jsonl", to="jsonl", options=base, retries=2)
    assert seen == [dataclasses.replace(base, retries=2)]
    convert_archives([sample_archive], tmp_path / "p.jsonl", to="jsonl", options=base)
    assert seen[-1] is base  # held as given, not copied field by field


def test_unknown_keyword_is_a_type_error(sample_archive: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'medai'"):
        convert_archives([sample_archive], tmp_path / "o.jsonl", to="jsonl", medai="embedded")  # type: ignore[call-arg]
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("media", "all", "media must be one of none, embedded, download, not 'all'"),
        ("batch_size", 0, "batch_size, jobs and workers must be at least 1"),
        ("workers", 0, "batch_size, jobs and workers must be at least 1"),
        ("rows_per_file", 0, "rows_per_file must be at least 1"),
        ("split", "../up", "bad split name '../up'"),
        ("bad_numbers", "zero", "bad_numbers must be one of"),
    ],
)
def test_bad_values_are_refused_when_made(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        ConvertOptions(**{field: value})  # type: ignore[arg-type]


def test_frozen_and_hashable() -> None:
    options = ConvertOptions(metadata_columns=["a", "b.c"])  # type: ignore[arg-type]
    assert options.metadata_columns == ("a", "b.c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.media = "embedded"  # type: ignore[misc]
    assert hash(options) == hash(ConvertOptions(metadata_columns=("a", "b.c")))
    assert "pat" not in repr(ConvertOptions(pat="secret-key"))
    assert toolkit.ConvertOptions is ConvertOptions


@pytest.mark.parametrize(
    ("to", "options", "message"),
    [
        (
            "jsonl",
            ConvertOptions(png=True),
            "png applies to to='sdk' with media='embedded' or 'download'",
        ),
        ("sdk", ConvertOptions(png=True), "png applies to to='sdk'"),
        ("yolo", ConvertOptions(video_frames=True), "video_frames applies to to='coco'"),
        ("voc", ConvertOptions(image_labels=True), "image_labels applies to to='coco'"),
        ("coco", ConvertOptions(task="segment"), "task applies to to='yolo'"),
        ("jsonl", ConvertOptions(media="embedded"), "media applies to to='coco'"),
    ],
)
def test_settings_of_other_formats_name_the_parameter(
    sample_archive: Path, tmp_path: Path, to: str, options: ConvertOptions, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        convert_archives([sample_archive], tmp_path / "out", to=to, options=options)
    assert "--" not in str(caught.value)  # the library does not speak in flags
    assert not (tmp_path / "out").exists()


def test_converter_counts_are_typed_and_land_in_the_report(
    sample_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.convert import ConvertCounts, ConvertReport
    from toolkit.convert.coco import CocoConverter

    report_fields = {f.name: f for f in dataclasses.fields(ConvertReport)}
    for counted in dataclasses.fields(ConvertCounts):
        assert counted.name in report_fields, counted.name
        assert counted.type == report_fields[counted.name].type, counted.name
    finished: list[object] = []

    class Spy(CocoConverter):
        def finish(self) -> ConvertCounts:
            counts = super().finish()
            finished.append(counts)
            return counts

    monkeypatch.setitem(FORMATS, "coco", Spy)
    report = convert_archives([sample_archive], tmp_path / "coco", to="coco")
    [counts] = finished
    assert isinstance(counts, ConvertCounts)
    assert (report.images, report.annotations, report.categories) == (
        counts.images,
        counts.annotations,
        counts.categories,
    )
    assert report.images == 30 and report.annotations == 68
