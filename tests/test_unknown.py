"""Fields no schema knows: found wherever they are, tallied, and worded for the warning."""

from __future__ import annotations

from toolkit.messages import Input
from toolkit.unknown import (
    UnknownFields,
    UnknownFieldTally,
    describe_unknown_fields,
    find_unknown_fields,
)

VARINT_99 = b"\x98\x06\x01"  # field 99, varint 1
BYTES_42 = b"\xd2\x02\x01x"  # field 42, bytes "x"


def test_found_in_nested_repeated_map_and_well_known_messages() -> None:
    record = Input(id="a")
    record.data.concepts.add(id="c").MergeFromString(VARINT_99)
    record.data.image.hosted_image_info["small"].MergeFromString(BYTES_42)
    record.data.metadata.MergeFromString(VARINT_99)
    record.status.MergeFromString(BYTES_42)
    record.data.regions.add().data.frames.add().frame_info.MergeFromString(VARINT_99)
    assert find_unknown_fields(record) == {
        ("Concept", 99),
        ("ImageInfo", 42),
        ("google.protobuf.Struct", 99),
        ("status.Status", 42),
        ("FrameInfo", 99),
    }
    assert find_unknown_fields(Input(id="b", dataset_ids=["d"])) == set()


def test_tally_and_wording() -> None:
    tally = UnknownFieldTally()
    records = [Input(id=f"in-{n}") for n in range(5)]
    for record in records[:4]:
        record.data.MergeFromString(VARINT_99)
    records[0].data.image.MergeFromString(BYTES_42)
    assert [tally.add(r) for r in records] == [True, True, True, True, False]
    found = tally.result()
    assert found == UnknownFields(4, ("Data field 99", "Image field 42"), ("in-0", "in-1", "in-2"))
    assert describe_unknown_fields(found) == (
        "4 inputs (e.g. 'in-0', 'in-1', 'in-2') carry fields this schema does not know "
        "(Data field 99, Image field 42); JSON output leaves them out, protobuf output keeps them"
    )
    assert describe_unknown_fields(UnknownFields()) == ""


def _archive_with_unknown_fields(path):
    from toolkit.archive import write_archive

    records = [Input(id=f"in-{n}") for n in range(4)]
    for n, record in enumerate(records):
        record.data.concepts.add(id="c", value=1.0)
        vector = [0.0] * 4
        vector[n] = 1.0  # orthogonal: no near-duplicates
        record.data.embeddings.add(vector=vector, num_dimensions=4)
    records[1].data.MergeFromString(VARINT_99)
    records[2].data.image.MergeFromString(BYTES_42)
    write_archive(path, records)
    return path


def test_the_rewriting_commands_warn_when_json_leaves_fields_out(tmp_path) -> None:
    """merge, filter, remove, split, relabel and dedupe with --to json name what JSON left
    out; with protobuf output (which keeps the fields) they say nothing."""
    from click.testing import CliRunner

    from toolkit.cli import cli

    source = str(_archive_with_unknown_fields(tmp_path / "src.zip"))
    runs = {
        "merge": ["merge", source],
        "filter": ["filter", source, "--concept", "c"],
        "remove": ["remove", source, "--id", "in-0"],
        "relabel": ["relabel", source, "--map", "c=d"],
        "dedupe": ["dedupe", source, "--threshold", "0.9"],
    }
    warning = (
        "Warning: 2 inputs (e.g. 'in-1', 'in-2') carry fields this schema does not know "
        "(Data field 99, Image field 42); JSON output leaves them out, protobuf output "
        "keeps them\n"
    )
    for name, args in runs.items():
        for flavour in ("json", "protobuf"):
            out = tmp_path / f"{name}-{flavour}.zip"
            result = CliRunner().invoke(cli, ["-q", *args, "-o", str(out), "--to", flavour])
            assert result.exit_code == 0, (name, result.output)
            assert result.stderr == (warning if flavour == "json" else ""), (name, flavour)
    result = CliRunner().invoke(
        cli,
        [
            "-q",
            "split",
            source,
            "--ratios",
            "a=0.5,b=0.5",
            "-o",
            str(tmp_path / "s"),
            "--to",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == warning
