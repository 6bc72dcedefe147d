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
