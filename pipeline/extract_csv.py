"""CSV written for people to open in a spreadsheet (the report's extracts, `convert`'s list of
quarantined rows), safe against formula injection.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and, in some, a tab or carriage
return before one) as a formula: `=HYPERLINK(...)` leaks data, `=2+5+cmd|' /C calc'!A0` starts a
program. As OWASP's CSV-injection guidance recommends, a text cell beginning with one of those
characters (or with spaces and then one) is written with a single quote in front and quoted, so it
shows as the text it is. Numbers stay numbers: a Decimal, int or float is written as a number, and
text that is a plain decimal number (`-12.5`, an account id `+4412`) is left alone, since a
spreadsheet reads it as that number and runs nothing. Machine-readable outputs (the FOCUS export,
`costledger sql --format csv`) keep their values exactly and do not go through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could take this text cell for a formula."""
    stripped = text.lstrip(" ")
    return stripped.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(stripped)


def cell(value: Any) -> str:
    """One value as a CSV field: empty for None, Decimals in full (no exponent), a text that could
    run as a formula prefixed with `'` and quoted, other text quoted only when it must be."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bool, int, float)):
        return str(value)
    text = str(value)
    if isinstance(value, str) and is_formula(text):
        return '"' + ("'" + text).replace('"', '""') + '"'
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A header and rows as CSV text (`\\n` line ends), every cell through `cell`."""
    lines = [",".join(cell(name) for name in header)]
    lines += [",".join(cell(value) for value in row) for row in rows]
    return "\n".join(lines) + "\n"
