"""Inputs in protobuf's JSON mapping with the proto field names, as Clarifai's REST API writes them.

The output is exactly what ``json_format.MessageToDict(preserving_proto_field_name=True)``
gives (zero values omitted, bytes as base64, 64-bit integers as strings, enums by name,
Timestamps in RFC 3339, Struct as plain JSON, wrappers as plain values, floats in their
shortest form that parses back to the same bits, NaN and infinities as ``"NaN"``,
``"Infinity"``, ``"-Infinity"``), made about 40 times faster: a converter is compiled once
per message type, float vectors go to orjson as numpy float32 arrays, and Struct keys
are sorted so the same input always gives the same bytes.

Two floats are written differently from protobuf's printer, so that they read back: the
largest float32 as its exact value (protobuf's ``3.4028235e+38`` is refused by its own
parser), and subnormals in their truly shortest form (``1e-45``, not ``1.4013e-45``).
Unknown fields (of a Clarifai newer than the schema; see :mod:`toolkit.unknown`) have no
JSON form and are left out, as protobuf's own mapping does.

A NaN or infinite number in a Struct (metadata) has no JSON form either: protobuf refuses
to write it (it would read back as a string), and so does this module, unless the caller
asks for ``null`` in its place (``bad_numbers="null"``, see :func:`bad_numbers_as_null`),
which also records the inputs that held one.

Example::

    line = input_to_json(record)          # one line of JSON Lines, no newline
    record = input_from_json(line)
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime
import keyword
import math
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal, cast

import numpy as np
import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ._wire import packed_floats
from .errors import SchemaError, param, params_of
from .messages import Input

__all__ = [
    "BAD_NUMBERS",
    "BadNumbers",
    "NulledNumbers",
    "bad_numbers_as_null",
    "batch_to_json_bytes",
    "input_from_json",
    "input_to_dict",
    "input_to_json",
    "input_to_json_bytes",
    "iter_input_json",
    "join_input_json",
    "split_input_json",
    "message_to_dict",
    "message_to_json_bytes",
]

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_Convert = Callable[[Any], Any]

#: The largest float32, and a bound below it: values under it need no special care.
_FLT_MAX = float(np.finfo(np.float32).max)
_BIG = 3.4e38

_EPOCH = datetime.datetime(1970, 1, 1)
#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range protobuf accepts.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799

#: What to do with a NaN or infinite number in metadata: refuse (``error``, protobuf's
#: choice) or write ``null`` in its place.
BadNumbers = Literal["error", "null"]
BAD_NUMBERS: tuple[BadNumbers, ...] = ("error", "null")


class NulledNumbers:
    """What :func:`bad_numbers_as_null` collects: how many numbers became ``null``, how
    many inputs held them and the ids of the first :attr:`MAX_IDS` of those (recorded by
    the converters that know which input they are writing)."""

    MAX_IDS = 1000

    def __init__(self) -> None:
        self.numbers = 0
        self.input_count = 0
        self.inputs: list[str] = []

    def record(self, input_id: str, before: int) -> None:
        """Note ``input_id`` when numbers became null since the count was ``before``."""
        if self.numbers != before:
            self.input_count += 1
            if len(self.inputs) < self.MAX_IDS:
                self.inputs.append(input_id)

    def add(self, other: NulledNumbers) -> None:
        """Add another tally (a worker process's) to this one."""
        self.numbers += other.numbers
        self.input_count += other.input_count
        self.inputs.extend(other.inputs[: max(0, self.MAX_IDS - len(self.inputs))])


_NULLED: contextvars.ContextVar[NulledNumbers | None] = contextvars.ContextVar(
    "toolkit_jsonmap_nulled", default=None
)


@contextlib.contextmanager
def bad_numbers_as_null(enabled: bool = True) -> Iterator[NulledNumbers | None]:
    """Within the block, NaN and infinite numbers in metadata are written as ``null``
    (instead of raising); yields the :class:`NulledNumbers` tally (None when not
    ``enabled``, the default behaviour of refusing them stays).

    Example::

        with bad_numbers_as_null() as nulled:
            line = input_to_json_bytes(record)
        print(nulled.numbers)
    """
    if not enabled:
        yield None
        return
    tally = NulledNumbers()
    token = _NULLED.set(tally)
    try:
        yield tally
    finally:
        _NULLED.reset(token)


def current_nulls() -> NulledNumbers | None:
    """The tally of the enclosing :func:`bad_numbers_as_null`, if any."""
    return _NULLED.get()


def check_bad_numbers(value: str) -> BadNumbers:
    """``value`` when it is a :data:`BAD_NUMBERS` choice, else ValueError."""
    if value not in BAD_NUMBERS:
        raise ValueError(f"bad_numbers must be one of {', '.join(BAD_NUMBERS)}, not {value!r}")
    return value


class _BadNumber(ValueError):
    """A NaN or infinite metadata number met with ``bad_numbers="error"``."""

    #: The parameter the message names (as :func:`toolkit.errors.param` spells it).
    params = (param("bad_numbers", "null"),)


_NAN = "NaN"
_INFINITY = "Infinity"
_NEG_INFINITY = "-Infinity"

_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_WRAPPERS = frozenset(
    f"google.protobuf.{name}"
    for name in (
        "DoubleValue",
        "FloatValue",
        "Int64Value",
        "UInt64Value",
        "Int32Value",
        "UInt32Value",
        "BoolValue",
        "StringValue",
        "BytesValue",
    )
)


# -- scalar converters ---------------------------------------------------------------


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return _NAN
    return _INFINITY if value > 0 else _NEG_INFINITY


def _float32(value: float) -> Any:
    # orjson writes a numpy float32 in its shortest form that reads back to the same bits.
    if -_BIG < value < _BIG:
        return np.float32(value)
    if value - value != 0.0:
        return _non_finite(value)
    if value in (_FLT_MAX, -_FLT_MAX):
        # Its shortest form, 3.4028235e+38, is above the largest float32 as a double and
        # protobuf's parser refuses it: write the exact value instead.
        return value
    return np.float32(value)


def _double(value: float) -> Any:
    if value - value == 0.0:
        return value
    return _non_finite(value)


def _float32_vector(values: Any) -> Any:
    array = np.array(values, dtype=np.float32)
    if _plain_vector(array):
        return array
    return [_float32(float(v)) for v in array]


def _quiet_floats() -> Any:
    """The overflow test of :func:`_plain_vector` may overflow on purpose: entry points
    run the converters under this, so numpy does not warn about it."""
    return np.errstate(over="ignore", invalid="ignore")


def _plain_vector(array: np.ndarray) -> bool:
    """True when every value is finite and far below the largest float32.

    One dot product decides: the float32 sum of squares overflows to infinity (or is
    NaN) when any value is NaN, infinite or above ~1.8e19; those rare vectors take the
    value-by-value path.
    """
    return bool(array.dot(array) < _BIG)


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _enum_converter(field: FieldDescriptor) -> _Convert:
    enum_type = field.enum_type
    assert enum_type is not None  # an enum field
    if enum_type.full_name == "google.protobuf.NullValue":
        return lambda value: None
    # The name protobuf's printer uses: for numbers with aliases (allow_alias), the first.
    by_number = enum_type.values_by_number
    names = {value.number: by_number[value.number].name for value in enum_type.values}
    return lambda value: names.get(value, value)


def _scalar_converter(field: FieldDescriptor) -> _Convert | None:
    """The converter of one non-message value of ``field``; None when the value is kept as is."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_FLOAT:
        return _float32
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _double
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if kind in _INT64_TYPES:
        return str
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum_converter(field)
    return None


# -- the compiled mapper ----------------------------------------------------------------


class _Mapper:
    """Turns messages into JSON-ready objects; one converter table per message type."""

    def __init__(self, *, json_names: bool) -> None:
        self.json_names = json_names
        self._messages: dict[str, _Convert] = {}

    # Messages --------------------------------------------------------------------------

    def message(self, message: Message) -> Any:
        """The JSON form of ``message`` (an object for plain messages)."""
        # types-protobuf types DESCRIPTOR as this Descriptor or upb's: the same class at runtime
        return self.converter(cast(Descriptor, message.DESCRIPTOR))(message)

    def converter(self, descriptor: Descriptor) -> _Convert:
        full_name = descriptor.full_name
        found = self._messages.get(full_name)
        if found is not None:
            return found
        convert: _Convert
        if full_name in _WRAPPERS:
            inner = _scalar_converter(descriptor.fields_by_name["value"])
            if inner is None:
                convert = _wrapper_plain
            else:
                convert = _wrapper_with(inner)
        elif full_name == "google.protobuf.Struct":
            convert = _struct
        elif full_name == "google.protobuf.Value":
            convert = _value
        elif full_name == "google.protobuf.ListValue":
            convert = _list_value
        elif full_name == "google.protobuf.Timestamp":
            convert = _timestamp
        elif full_name == "google.protobuf.Duration":
            convert = _to_json_string
        elif full_name == "google.protobuf.FieldMask":
            convert = _to_json_string
        elif full_name.startswith("google.protobuf.") and full_name != "google.protobuf.Empty":
            # Any and other rare well-known types: protobuf's own mapping.
            convert = self._fallback
        elif _is_embedding(descriptor):
            convert = self._embedding(descriptor)
        else:
            convert, fill = self._generated_message(descriptor)
            # Registered before its fields are compiled, so recursive types resolve.
            self._messages[full_name] = convert
            fill()
            return convert
        self._messages[full_name] = convert
        return convert

    def _fallback(self, message: Message) -> Any:
        return json_format.MessageToDict(message, preserving_proto_field_name=not self.json_names)

    def _generated_message(self, descriptor: Descriptor) -> tuple[_Convert, Callable[[], None]]:
        """A converter written out as Python code for this message type.

        It reads each field directly (about twice as fast as walking ``ListFields``) and
        keeps protobuf's rules: fields with presence when set, others when not zero
        (``-0.0`` counts as set), in field-number order. The converters of the fields'
        types are bound to names ``c0``, ``c1``, ... once they exist (see ``fill``).
        """
        pending: list[tuple[str, FieldDescriptor]] = []
        lines = ["def convert(m):", "    out = {}"]
        for field in sorted(descriptor.fields, key=lambda f: f.number):
            name = field.json_name if self.json_names else field.name
            attr = field.name
            if attr.isidentifier() and not keyword.iskeyword(attr):
                access = f"m.{attr}"
            else:
                access = f"getattr(m, {attr!r})"
            helper = f"c{len(pending)}"
            expression, needs_helper = _inline(field, helper)
            if needs_helper:
                pending.append((helper, field))
            store = f"out[{name!r}] = {expression}"
            if field.is_repeated:
                lines += [f"    v = {access}", "    if v:", f"        {store}"]
            elif field.has_presence:
                lines += [
                    f"    if m.HasField({attr!r}):",
                    f"        v = {access}",
                    f"        {store}",
                ]
            elif field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
                lines += [
                    f"    v = {access}",
                    "    if v or (v == 0.0 and _copysign(1.0, v) < 0.0):",
                    f"        {store}",
                ]
            else:
                lines += [f"    v = {access}", "    if v:", f"        {store}"]
        lines.append("    return out")
        namespace: dict[str, Any] = {
            "_copysign": math.copysign,
            "_f32": np.float32,
            "_float32": _float32,
            "_float32_vector": _float32_vector,
            "_non_finite": _non_finite,
        }
        exec(compile("\n".join(lines), f"<jsonmap {descriptor.full_name}>", "exec"), namespace)

        def fill() -> None:
            for helper, field in pending:
                namespace[helper] = self._helper(field)

        return namespace["convert"], fill

    def _helper(self, field: FieldDescriptor) -> _Convert:
        """What ``_inline``'s expression calls: a message converter (of one item, for
        repeated fields), a map converter, or a scalar converter (of one item)."""
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            message_type = field.message_type
            assert message_type is not None
            if message_type.GetOptions().map_entry:
                return self._map_converter(message_type)
            return self.converter(message_type)
        scalar = _scalar_converter(field)
        assert scalar is not None
        return scalar

    def _embedding(self, descriptor: Descriptor) -> _Convert:
        """``Embedding``: the packed vector goes to numpy straight from the wire bytes."""
        plain, fill = self._generated_message(descriptor)
        fill()  # vector and num_dimensions: no message fields to wait for
        dims_field = descriptor.fields_by_name["num_dimensions"]
        vector_name = "vector"
        dims_name = dims_field.json_name if self.json_names else dims_field.name

        def convert(message: Any) -> Any:
            count = len(message.vector)
            if not count:
                return plain(message)
            # Field 1 (vector) comes first; unknown fields come last.
            array = packed_floats(message.SerializeToString())
            if array is None or len(array) != count or not _plain_vector(array):
                return plain(message)
            out: dict[str, Any] = {vector_name: array}
            dims = message.num_dimensions
            if dims:
                out[dims_name] = dims
            return out

        return convert

    def _map_converter(self, entry_type: Descriptor) -> _Convert:
        key_field = entry_type.fields_by_name["key"]
        value_field = entry_type.fields_by_name["value"]
        if value_field.type == FieldDescriptor.TYPE_MESSAGE:
            assert value_field.message_type is not None
            value_conv: _Convert | None = self.converter(value_field.message_type)
        else:
            value_conv = _scalar_converter(value_field)
        is_bool = key_field.type == FieldDescriptor.TYPE_BOOL

        def key_text(key: Any) -> str:
            if is_bool:
                return "true" if key else "false"
            return str(key)

        def convert(mapping: Any) -> dict[str, Any]:
            keys = sorted(mapping, key=key_text)
            if value_conv is None:
                return {key_text(k): mapping[k] for k in keys}
            return {key_text(k): value_conv(mapping[k]) for k in keys}

        return convert


def _inline(field: FieldDescriptor, helper: str) -> tuple[str, bool]:
    """The expression that converts ``v``, the value of ``field``, and whether it calls
    ``helper`` (bound later to the converter :meth:`_Mapper._helper` gives)."""
    kind = field.type
    if field.is_repeated:
        if kind == FieldDescriptor.TYPE_MESSAGE:
            assert field.message_type is not None
            if field.message_type.GetOptions().map_entry:
                return f"{helper}(v)", True
            return f"[{helper}(x) for x in v]", True
        if kind == FieldDescriptor.TYPE_FLOAT:
            return "_float32_vector(v)", False
        if _scalar_converter(field) is None:
            return "list(v)", False
        return f"[{helper}(x) for x in v]", True
    if kind == FieldDescriptor.TYPE_MESSAGE:
        return f"{helper}(v)", True
    if kind == FieldDescriptor.TYPE_FLOAT:
        return "_f32(v) if -3.4e38 < v < 3.4e38 else _float32(v)", False
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return "v if v - v == 0.0 else _non_finite(v)", False
    if kind in _INT64_TYPES:
        return "str(v)", False
    if _scalar_converter(field) is None:
        return "v", False
    return f"{helper}(v)", True


def _is_embedding(descriptor: Descriptor) -> bool:
    fields = descriptor.fields_by_name
    vector = fields.get("vector")
    dims = fields.get("num_dimensions")
    return (
        len(descriptor.fields) == 2
        and vector is not None
        and dims is not None
        and vector.number == 1
        and vector.type == FieldDescriptor.TYPE_FLOAT
        and vector.is_repeated
        and dims.type == FieldDescriptor.TYPE_UINT32
    )


def _wrapper_plain(message: Any) -> Any:
    return message.value


def _wrapper_with(inner: _Convert) -> _Convert:
    return lambda message: inner(message.value)


def _to_json_string(message: Any) -> str:
    return str(message.ToJsonString())


def _timestamp(message: Any) -> str:
    """RFC 3339 with 0, 3, 6 or 9 fractional digits, exactly as ``ToJsonString`` writes it."""
    seconds, nanos = message.seconds, message.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return str(message.ToJsonString())  # raises ValueError, as protobuf does
    text = (_EPOCH + datetime.timedelta(seconds=seconds)).isoformat()
    if not nanos:
        return text + "Z"
    if not nanos % 1_000_000:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if not nanos % 1000:
        return f"{text}.{nanos // 1000:06d}Z"
    return f"{text}.{nanos:09d}Z"


def _struct(message: Any) -> dict[str, Any]:
    fields = message.fields
    out: dict[str, Any] = {}
    for key in sorted(fields):
        value = fields[key]
        kind = value.WhichOneof("kind")
        # Strings, the most common kind, without a call.
        out[key] = value.string_value if kind == "string_value" else _kind_value(value, kind)
    return out


def _list_value(message: Any) -> list[Any]:
    return [_value(v) for v in message.values]


def _value(message: Any) -> Any:
    return _kind_value(message, message.WhichOneof("kind"))


def _kind_value(message: Any, kind: str | None) -> Any:
    if kind == "string_value":
        return message.string_value
    if kind == "number_value":
        number = message.number_value
        if number - number != 0.0:
            nulled = _NULLED.get()
            if nulled is None:
                raise _BadNumber(
                    f"metadata holds the number {number}, which JSON cannot represent "
                    f"(protobuf would read it back as a string); pass {_BadNumber.params[0]} "
                    "to write null in its place, or keep the protobuf flavour"
                )
            nulled.numbers += 1
            return None
        return number
    if kind == "bool_value":
        return message.bool_value
    if kind == "struct_value":
        return _struct(message.struct_value)
    if kind == "list_value":
        return _list_value(message.list_value)
    return None


_PROTO_NAMES = _Mapper(json_names=False)
_JSON_NAMES = _Mapper(json_names=True)


def _mapper(json_names: bool) -> _Mapper:
    return _JSON_NAMES if json_names else _PROTO_NAMES


def _dump(obj: Any, where: str) -> bytes:
    try:
        return orjson.dumps(obj, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if is_out_of_memory(exc):
            raise MemoryError(str(exc)) from None
        raise SchemaError(f"{where}: cannot be written as JSON ({exc})") from None


def is_out_of_memory(exc: BaseException) -> bool:
    """True for orjson's "Not enough memory" (a JSONEncodeError, not a MemoryError)."""
    return isinstance(exc, orjson.JSONEncodeError) and "memory" in str(exc).lower()


def _json_object(message: Message, json_names: bool, where: Callable[[], str]) -> Any:
    try:
        with _quiet_floats():
            return _mapper(json_names).message(message)
    except (ValueError, RecursionError) as exc:
        raise SchemaError(
            f"{where()}: cannot be written as JSON ({exc})", params=params_of(exc)
        ) from None


#: Strings longer than this (in characters) are escaped and written a piece at a time
#: by :func:`iter_input_json`: one string of control characters grows six-fold when
#: escaped (``\x01`` is ``\u0001``), and would otherwise be one piece of that size.
LONG_STRING = 1 << 20
#: What stands for a long string while the rest of the document is encoded: a NUL, a
#: random token (unknowable to an archive) and a NUL, as orjson writes them.
_LONG_MARK = f"\x00{secrets.token_hex(16)}\x00"
_LONG_MARK_JSON = orjson.dumps(_LONG_MARK)


def _pull_long_strings(obj: Any, found: list[str]) -> Any:
    """``obj`` with each string value longer than :data:`LONG_STRING` replaced by the
    mark, in document order (dicts keep their insertion order in orjson's output)."""
    if isinstance(obj, str):
        if len(obj) > LONG_STRING:
            found.append(obj)
            return _LONG_MARK
        return obj
    if isinstance(obj, dict):
        return {k: _pull_long_strings(v, found) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_pull_long_strings(v, found) for v in obj]
    return obj


def _escaped_pieces(text: str) -> Iterator[bytes]:
    """``text`` as the inside of a JSON string, :data:`LONG_STRING` characters at a time."""
    for start in range(0, len(text), LONG_STRING):
        yield orjson.dumps(text[start : start + LONG_STRING])[1:-1]


def iter_input_json(
    record: Input, *, indent: bool = False, bad_numbers: BadNumbers = "error"
) -> Iterator[bytes]:
    """The input's JSON (what :func:`input_to_json_bytes` returns, or indented by two
    spaces with ``indent``) in pieces whose size does not grow with its longest string:
    strings longer than :data:`LONG_STRING` characters are escaped a piece at a time.
    Errors (a NaN in metadata, say) are raised before the first piece.

    Example::

        for piece in iter_input_json(record):
            stream.write(piece)
        stream.write(b"\\n")
    """
    parts, longs = split_input_json(record, indent=indent, bad_numbers=bad_numbers)
    return join_input_json(parts, longs)


def split_input_json(
    record: Input, *, indent: bool = False, bad_numbers: BadNumbers = "error"
) -> tuple[list[bytes], list[str]]:
    """The input's JSON cut at its long strings: ``parts`` (one more than ``longs``)
    and the strings longer than :data:`LONG_STRING` that go between them, unescaped
    (:func:`join_input_json` puts them together). No long string: one part, the JSON."""
    where = _input_where(record)
    with bad_numbers_as_null(check_bad_numbers(bad_numbers) == "null" and _NULLED.get() is None):
        nulled = _NULLED.get()
        before = nulled.numbers if nulled is not None else 0
        obj = _json_object(record, False, where)
        if nulled is not None:
            nulled.record(record.id, before)
    longs: list[str] = []
    obj = _pull_long_strings(obj, longs)
    option = _OPTIONS | orjson.OPT_INDENT_2 if indent else _OPTIONS
    try:
        data = orjson.dumps(obj, option=option)
    except orjson.JSONEncodeError as exc:
        if is_out_of_memory(exc):
            raise MemoryError(str(exc)) from None
        raise SchemaError(f"{where()}: cannot be written as JSON ({exc})") from None
    if not longs:
        return [data], []
    parts = data.split(_LONG_MARK_JSON)
    assert len(parts) == len(longs) + 1
    return parts, longs


def join_input_json(parts: list[bytes], longs: list[str]) -> Iterator[bytes]:
    """The pieces of the JSON :func:`split_input_json` cut, each long string escaped
    :data:`LONG_STRING` characters at a time."""
    for part, text in zip(parts[:-1], longs, strict=True):
        yield part + b'"'
        yield from _escaped_pieces(text)
        yield b'"'
    yield parts[-1]


def _input_where(record: Input) -> Callable[[], str]:
    return lambda: f"input {record.id!r}"


# -- public API ---------------------------------------------------------------------------


def message_to_json_bytes(message: Message, *, json_names: bool = False) -> bytes:
    """Any message in protobuf's JSON mapping, as compact UTF-8 JSON.

    ``json_names=True`` uses lowerCamelCase names (``regionInfo``), as
    ``MessageToDict`` does by default; otherwise the proto field names.

    Example::

        body = message_to_json_bytes(record.data, json_names=True)
    """
    where = f"{message.DESCRIPTOR.name} message"
    return _dump(_json_object(message, json_names, lambda: where), where)


def message_to_dict(message: Message, *, json_names: bool = False) -> Any:
    """Any message as plain JSON values (what ``json_format.MessageToDict`` returns).

    Example::

        data = message_to_dict(record.data, json_names=True)   # the SDK's key names
    """
    return orjson.loads(message_to_json_bytes(message, json_names=json_names))


def input_to_json_bytes(record: Input, *, bad_numbers: BadNumbers = "error") -> bytes:
    """The input as one compact line of UTF-8 JSON (no newline), proto field names.

    ``bad_numbers="null"`` writes a NaN or infinite metadata number as ``null`` (by
    default it is a :class:`~toolkit.errors.SchemaError`, as protobuf refuses it); the
    enclosing :func:`bad_numbers_as_null`, if any, counts it.

    Example::

        stream.write(input_to_json_bytes(record) + b"\\n")
    """
    where = _input_where(record)
    if check_bad_numbers(bad_numbers) == "null" and _NULLED.get() is None:
        with bad_numbers_as_null():
            return _dump(_json_object(record, False, where), where())
    nulled = _NULLED.get()
    before = nulled.numbers if nulled is not None else 0
    data = _dump(_json_object(record, False, where), where())
    if nulled is not None:
        nulled.record(record.id, before)
    return data


def input_to_dict(record: Input, *, bad_numbers: BadNumbers = "error") -> dict[str, Any]:
    """The input as a JSON-ready dict (snake_case names, bytes as base64, zero values omitted).

    Example::

        input_to_dict(record)["data"]["concepts"][0]["name"]
    """
    result: dict[str, Any] = orjson.loads(input_to_json_bytes(record, bad_numbers=bad_numbers))
    return result


def input_to_json(record: Input, *, bad_numbers: BadNumbers = "error") -> str:
    """The input as one compact line of JSON.

    Example::

        print(input_to_json(record))
    """
    return input_to_json_bytes(record, bad_numbers=bad_numbers).decode("utf-8")


def input_from_json(text: str | bytes) -> Input:
    """Parse one input from JSON (snake_case or lowerCamelCase names).

    Example::

        record = input_from_json('{"id": "a", "data": {"text": {"raw": "hi"}}}')
    """
    record = Input()
    try:
        json_format.Parse(text, record, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError) as exc:
        raise SchemaError(f"not a JSON input ({str(exc)[:200]})") from None
    return record


def _json_objects(records: Iterable[Input]) -> list[Any]:
    """JSON-ready objects (numpy float32 values inside) for orjson; internal fast path."""
    mapper = _PROTO_NAMES.converter(cast(Descriptor, Input.DESCRIPTOR))
    out = []
    nulled = _NULLED.get()
    with _quiet_floats():
        for record in records:
            try:
                if nulled is None:
                    out.append(mapper(record))
                else:
                    before = nulled.numbers
                    out.append(mapper(record))
                    nulled.record(record.id, before)
            except (ValueError, RecursionError) as exc:
                raise SchemaError(
                    f"input {record.id!r}: cannot be written as JSON ({exc})",
                    params=params_of(exc),
                ) from None
    return out


def batch_to_json_bytes(records: Sequence[Input]) -> bytes:
    """One ``InputBatch`` entry of a Clarifai-Data-JSON archive.

    Example::

        data = batch_to_json_bytes(batch.inputs)
    """
    body = {"inputs": _json_objects(records)} if len(records) else {}
    return _dump(body, "input batch")
