"""What a type checker sees of ``toolkit``'s public names: their real types, never ``Any``.

Checked by mypy (``files`` in pyproject.toml; ``.ci/run`` runs it), not run by pytest:
``typing.assert_type`` fails the check when a name is ``Any`` or anything other than the
type written here. Most names load lazily at run time (the package's ``__getattr__``), so only
the ``TYPE_CHECKING`` imports in ``toolkit/__init__.py`` give them a type.
``tests/test_typing.py`` checks that every lazy name is named here.
"""

from __future__ import annotations

from pathlib import Path

from typing_extensions import assert_type

import toolkit
from toolkit import (
    catalog,
    convert,
    dataset,
    dedupe,
    index,
    input_ids,
    media,
    merge,
    relabel,
    split,
    subset,
    unknown,
)
from toolkit.index.sheet import SheetRow
from toolkit.messages import Input


def classes() -> None:
    assert_type(toolkit.Archive, type[dataset.Archive])
    assert_type(toolkit.InputIds, type[input_ids.InputIds])
    assert_type(toolkit.Catalog, type[catalog.Catalog])
    assert_type(toolkit.DatasetInfo, type[catalog.DatasetInfo])
    assert_type(toolkit.VersionInfo, type[catalog.VersionInfo])
    assert_type(toolkit.ConvertOptions, type[convert.ConvertOptions])
    assert_type(toolkit.ConvertReport, type[convert.ConvertReport])
    assert_type(toolkit.DedupeReport, type[dedupe.DedupeReport])
    assert_type(toolkit.DuplicateGroup, type[index.DuplicateGroup])
    assert_type(toolkit.EvalReport, type[index.EvalReport])
    assert_type(toolkit.Hit, type[index.Hit])
    assert_type(toolkit.Selection, type[index.Selection])
    assert_type(toolkit.SimilarityIndex, type[index.SimilarityIndex])
    assert_type(toolkit.FileNamer, type[media.FileNamer])
    assert_type(toolkit.MediaReport, type[media.MediaReport])
    assert_type(toolkit.MediaSink, type[media.MediaSink])
    assert_type(toolkit.MergeReport, type[merge.MergeReport])
    assert_type(toolkit.RelabelReport, type[relabel.RelabelReport])
    assert_type(toolkit.RelabelRules, type[relabel.RelabelRules])
    assert_type(toolkit.SplitReport, type[split.SplitReport])
    assert_type(toolkit.FilterCriteria, type[subset.FilterCriteria])
    assert_type(toolkit.FilterReport, type[subset.FilterReport])
    assert_type(toolkit.RemoveReport, type[subset.RemoveReport])
    assert_type(toolkit.UnknownFields, type[unknown.UnknownFields])


def constants() -> None:
    assert_type(toolkit.FORMATS, dict[str, type[convert.Converter]])
    assert_type(toolkit.CONFLICT_POLICIES, tuple[merge.ConflictPolicy, ...])
    assert_type(toolkit.__version__, str)


def functions(
    path: Path,
    found: index.SimilarityIndex,
    criteria: subset.FilterCriteria,
    rules: relabel.RelabelRules,
    rows: list[SheetRow],
    record: Input,
    unknown_fields: unknown.UnknownFields,
) -> None:
    """Each function called with its required arguments returns its real type."""
    assert_type(toolkit.open(path), dataset.Archive)
    assert_type(toolkit.open_archive(path), dataset.Archive)
    ids, _matrix = toolkit.open(path).embeddings()
    assert_type(ids, input_ids.InputIds)
    assert_type(ids[0], str)
    assert_type(ids[1:], input_ids.InputIds)
    assert_type(toolkit.Catalog(path), catalog.Catalog)
    assert_type(toolkit.convert_archives([path], path, to="coco"), convert.ConvertReport)
    options = toolkit.ConvertOptions(media="embedded", png=True)
    assert_type(
        toolkit.convert_archives([path], path, to="sdk", options=options), convert.ConvertReport
    )
    assert_type(
        toolkit.convert_archives([path], path, to="sdk", media="embedded"), convert.ConvertReport
    )
    assert_type(toolkit.dedupe_archive(path, path), dedupe.DedupeReport)
    assert_type(toolkit.build_index(path, path), index.SimilarityIndex)
    assert_type(toolkit.add_to_index(path, path), index.ChangeReport)
    assert_type(toolkit.remove_from_index(path, ["id"]), index.ChangeReport)
    assert_type(toolkit.evaluate_index(found), index.EvalReport)
    assert_type(toolkit.find_duplicates(found), list[index.DuplicateGroup])
    assert_type(toolkit.similar_ids(found, ["id"]), set[str])
    assert_type(toolkit.write_gallery(path, rows, {}), Path)
    assert_type(toolkit.write_sheet(path, rows, {}), Path)
    assert_type(toolkit.read_pat(), str | None)
    assert_type(toolkit.sniff_extension(b""), str | None)
    assert_type(toolkit.merge_archives([path], path), merge.MergeReport)
    assert_type(toolkit.relabel_archive(path, path, rules=rules), relabel.RelabelReport)
    assert_type(toolkit.split_archive(path, path, ratios={"train": 1.0}), split.SplitReport)
    assert_type(toolkit.filter_inputs(path, path, criteria=criteria), subset.FilterReport)
    assert_type(toolkit.remove_inputs(path, path, ["id"]), subset.RemoveReport)
    assert_type(toolkit.find_unknown_fields(record), set[tuple[str, int]])
    assert_type(toolkit.describe_unknown_fields(unknown_fields), str)
