"""The JSON Schemas in ``schemas/`` are the one source of truth for what we write.

Each property carries ``x-arrow``, the Arrow type its Parquet column is written with, so
the Parquet schema is derived from the JSON Schema instead of kept in step by hand.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pyarrow as pa

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

_ARROW = {
    "string": pa.string(),
    "int8": pa.int8(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint64": pa.uint64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "binary": pa.binary(),
    "list<string>": pa.list_(pa.string()),
    "list<float32>": pa.list_(pa.float32()),
}


@cache
def json_schema(name: str) -> dict:
    """``figure`` -> the parsed ``schemas/figure.schema.json``."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


@cache
def arrow_schema(name: str, exclude: frozenset[str] = frozenset()) -> pa.Schema:
    """The Parquet schema of a record type, in the JSON Schema's property order."""
    spec = json_schema(name)
    required = set(spec.get("required", []))
    fields = [
        pa.field(prop, _ARROW[body["x-arrow"]], nullable=prop not in required)
        for prop, body in spec["properties"].items()
        if prop not in exclude
    ]
    return pa.schema(fields)
