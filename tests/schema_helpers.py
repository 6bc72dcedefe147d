"""Inputs built with clarifai-grpc's classes that fill every field Clarifai defines.

``every_field_inputs()`` makes, for each message type reachable from ``Input``, one input
that reaches it by the shortest path of fields and fills it (every scalar, repeated,
map, enum and nested message, two levels down, one member of each oneof), seeded.
"""

from __future__ import annotations

import collections
import random
import string

from google.protobuf.descriptor import Descriptor, FieldDescriptor

_INT32 = (1, -7, 2**31 - 1, -(2**31))
_UINT32 = (1, 300, 2**32 - 1)
_INT64 = (1, -5, 2**53 + 1, 2**63 - 1, -(2**63))
_UINT64 = (1, 2**53 + 1, 2**64 - 1)
_FLOATS = (0.1, -2.5, 1e-30, 3.0e38, -0.0, 0.333333, float("inf"), float("nan"))
_DOUBLES = (0.1, -2.5, 1e-300, 1.7e308, -0.0, 1 / 3)
_TEXT = ("a", "Ball", 'quote " and \\ slash', "line\nbreak", "ünï €", "😀 emoji", "\x01ctl")


def _scalar(field: FieldDescriptor, rng: random.Random):
    kind = field.type
    if kind in (
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
    ):
        return rng.choice(_INT32)
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice(_UINT32)
    if kind in (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
    ):
        return rng.choice(_INT64)
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice(_UINT64)
    if kind == FieldDescriptor.TYPE_FLOAT:
        return rng.choice(_FLOATS)
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return rng.choice(_DOUBLES)
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(_TEXT) + "".join(rng.choices(string.ascii_letters, k=3))
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values if v.number]
        # Open enums: a number the enum does not name is kept, and printed as a number.
        return rng.choice(numbers + [99_991]) if numbers else 99_991
    raise AssertionError(field.type)


def _fill_well_known(message, rng: random.Random) -> bool:
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = rng.choice((0, 1_700_000_000, 253402300799, -62135596800))
        message.nanos = rng.choice((0, 5_000_000, 123_000, 7))
        return True
    if name == "google.protobuf.Struct":
        message.update({"n": 12, "s": "x", "b": False, "none": None, "l": [1.5, "y", {"k": []}]})
        return True
    if name == "google.protobuf.Value":
        message.string_value = "v"
        return True
    if name == "google.protobuf.ListValue":
        message.extend([1, "two", None])
        return True
    if name.startswith("google.protobuf.") and name.endswith("Value"):
        field = message.DESCRIPTOR.fields_by_name["value"]
        # A wrapper holding its zero value is set all the same and shows in JSON.
        message.value = _scalar(field, rng) if rng.random() < 0.7 else type(message.value)()
        return True
    return False


def fill(message, rng: random.Random, depth: int = 2) -> None:
    """Set every field of ``message``; nested messages ``depth`` levels down."""
    if _fill_well_known(message, rng):
        return
    descriptor: Descriptor = message.DESCRIPTOR
    chosen = {oneof.name: rng.choice(oneof.fields) for oneof in descriptor.oneofs if oneof.fields}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen.get(oneof.name) is not field:
            continue
        if field.message_type is None:
            if field.is_repeated:
                getattr(message, field.name).extend(_scalar(field, rng) for _ in range(2))
            else:
                setattr(message, field.name, _scalar(field, rng))
            continue
        if depth <= 0:
            continue
        if field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            target = getattr(message, field.name)
            for _ in range(2):
                key = _scalar(key_field, rng)
                if value_field.message_type is None:
                    target[key] = _scalar(value_field, rng)
                else:
                    fill(target[key], rng, depth - 1)
            continue
        if field.is_repeated:
            for _ in range(2):
                fill(getattr(message, field.name).add(), rng, depth - 1)
        else:
            fill(getattr(message, field.name), rng, depth - 1)


def _paths(root: Descriptor) -> dict[str, list[FieldDescriptor]]:
    """The shortest path of fields from ``root`` to every message type it reaches."""
    paths: dict[str, list[FieldDescriptor]] = {root.full_name: []}
    queue = collections.deque([root])
    while queue:
        descriptor = queue.popleft()
        for field in descriptor.fields:
            target = field.message_type
            if target is None or target.full_name in paths or target.GetOptions().map_entry:
                continue
            paths[target.full_name] = paths[descriptor.full_name] + [field]
            queue.append(target)
    return paths


def _walk(message, path: list[FieldDescriptor]):
    for field in path:
        if field.is_repeated:
            message = getattr(message, field.name).add()
        else:
            message = getattr(message, field.name)
    return message


def every_field_inputs(input_class, seed: int = 11) -> list:
    """One clarifai-grpc ``Input`` per message type it reaches, that type filled."""
    rng = random.Random(seed)
    records = []
    for n, (name, path) in enumerate(sorted(_paths(input_class.DESCRIPTOR).items())):
        if name.startswith("google.protobuf.") and name != "google.protobuf.Struct":
            continue
        record = input_class(id=f"every-{n:03d}")
        fill(_walk(record, path), rng)
        record.id = f"every-{n:03d}"  # when the path filled Input itself
        records.append(record)
    return records
