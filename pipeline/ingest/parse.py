"""Reading delivered files as text, and typing their columns with every failure kept.

Adapters read a file into an all-text frame (nothing lost), then `coerce` types each declared
column. A row with a value that does not parse, or without a required value, goes to quarantine
with its row number, column, value and the reason; the other rows go on.

This module is the one adapters import from; each part is a module of its own job:
pipeline.ingest.parsed (Parsed, Kind, Col, rejects, notes, the file scope of a chunked parse),
pipeline.ingest.text_readers (CSV, JSON lines and Parquet to all-text frames),
pipeline.ingest.dates (timestamp and date parsing, the day/month order of slash dates) and
pipeline.ingest.coerce (typing columns, money rounding, one currency per file).
"""

from __future__ import annotations

from pipeline.ingest.coerce import (
    coerce,
    dtype_of,
    round_excess_decimals,
    single_currency,
)
from pipeline.ingest.dates import (
    DATE_ORDERS,
    DateForms,
    date_order,
    parse_date,
    parse_timestamp,
)
from pipeline.ingest.parsed import (
    FILE_SCOPE,
    NULL_TOKENS,
    REJECT_SCHEMA,
    ROW,
    Col,
    FileScope,
    Kind,
    Parsed,
    Tally,
    Undecided,
    by_distinct,
    file_scope,
    line_records,
    map_distinct,
    merge_notes,
    raw_records,
    reject,
)
from pipeline.ingest.text_readers import (
    PARQUET_MAGIC,
    check_names,
    decode_string_maps,
    decode_text,
    header_of,
    json_object,
    json_string,
    parquet_text,
    read_bytes,
    read_csv_text,
    read_json_lines_text,
    read_parquet_text,
    struct_keys,
)

__all__ = [
    "Col",
    "DATE_ORDERS",
    "DateForms",
    "FILE_SCOPE",
    "FileScope",
    "Kind",
    "NULL_TOKENS",
    "PARQUET_MAGIC",
    "Parsed",
    "REJECT_SCHEMA",
    "ROW",
    "Tally",
    "Undecided",
    "by_distinct",
    "check_names",
    "coerce",
    "date_order",
    "decode_string_maps",
    "decode_text",
    "dtype_of",
    "file_scope",
    "header_of",
    "json_object",
    "json_string",
    "line_records",
    "map_distinct",
    "merge_notes",
    "parquet_text",
    "parse_date",
    "parse_timestamp",
    "raw_records",
    "read_bytes",
    "read_csv_text",
    "read_json_lines_text",
    "read_parquet_text",
    "reject",
    "round_excess_decimals",
    "single_currency",
    "struct_keys",
]
