"""Inputs in protobuf's JSON mapping with the proto field names, as Clarifai's REST API writes them.

Example::

    line = input_to_json(record)          # one line of JSON Lines, no newline
    record = input_from_json(line)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format

from .errors import SchemaError
from .messages import Input, InputBatch

__all__ = ["batch_to_json_bytes", "input_from_json", "input_to_dict", "input_to_json"]


def input_to_dict(record: Input) -> dict[str, Any]:
    """The input as a JSON-ready dict (snake_case names, bytes as base64, zero values omitted)."""
    return json_format.MessageToDict(record, preserving_proto_field_name=True)


def input_to_json(record: Input) -> str:
    """The input as one compact line of JSON."""
    return json.dumps(input_to_dict(record), ensure_ascii=False, separators=(",", ":"))


def input_from_json(text: str | bytes) -> Input:
    """Parse one input from JSON (snake_case or lowerCamelCase names)."""
    record = Input()
    try:
        json_format.Parse(text, record, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError) as exc:
        raise SchemaError(f"not a JSON input ({str(exc)[:200]})") from None
    return record


def batch_to_json_bytes(records: Sequence[Input]) -> bytes:
    """One ``InputBatch`` entry of a Clarifai-Data-JSON archive."""
    batch = InputBatch()
    batch.inputs.extend(records)
    body = json_format.MessageToDict(batch, preserving_proto_field_name=True)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )
