"""Dates as real exports write them: ISO with or without `T`, `Z`, an offset or seconds, a date
alone, dotted day.month.year, and slash dates read month/day/year or day/month/year as the file's
own values show (or as `[dates]` in the config says when they cannot). A date that does not parse
is quarantined naming the format expected; a file whose day/month order is ambiguous is refused,
naming the setting that resolves it."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.ingest.parse import ROW, Col, Kind, coerce, date_order, parse_date, parse_timestamp

runner = CliRunner()

# text -> the naive UTC datetime it means (worked by hand)
TIMESTAMPS = {
    "2026-01-31": datetime(2026, 1, 31),
    "2026-01-31T23:00:00Z": datetime(2026, 1, 31, 23),
    "2026-01-31 23:00:00": datetime(2026, 1, 31, 23),
    "2026-01-31T23:00Z": datetime(2026, 1, 31, 23),  # OCI writes minutes, no seconds
    "2026-01-31 23:00": datetime(2026, 1, 31, 23),
    "2026-01-31T23:00:00.250Z": datetime(2026, 1, 31, 23, 0, 0, 250000),
    "2026-02-01T00:30:00+01:00": datetime(2026, 1, 31, 23, 30),  # 00:30 at UTC+1 is 23:30 UTC the day before
    "2026-01-31T18:00:00-0500": datetime(2026, 1, 31, 23),  # an offset without a colon
    "2026-01-31 23:00:00 UTC": datetime(2026, 1, 31, 23),
    "2026-01-31T7:05:00Z": datetime(2026, 1, 31, 7, 5),  # a one-digit hour
}
# dotted dates: day first, always (read when the file has them: `dotted`)
DOTTED = {
    "31.01.2026": datetime(2026, 1, 31),
    "31.01.2026 08:15": datetime(2026, 1, 31, 8, 15),
    "1.2.2026 23:00:00Z": datetime(2026, 2, 1, 23),
}
# slash dates, read month/day/year
MDY = {
    "4/1/25": datetime(2025, 4, 1),  # two-digit year: 25 -> 2025
    "04/01/2025": datetime(2025, 4, 1),
    "4/15/2025 13:05": datetime(2025, 4, 15, 13, 5),
    "4/1/2025 12:00:00 AM": datetime(2025, 4, 1, 0, 0),  # 12 AM is midnight
    "4/1/2025 12:30 PM": datetime(2025, 4, 1, 12, 30),  # 12 PM is noon
    "4/1/2025 1:00:00 PM": datetime(2025, 4, 1, 13, 0),
    "1/2/99": datetime(1999, 1, 2),  # 69-99 are the 1900s, as POSIX %y reads them
    "12/31/2025T23:59:59Z": datetime(2025, 12, 31, 23, 59, 59),
}


@pytest.mark.parametrize(("text", "expected"), TIMESTAMPS.items())
def test_iso_timestamps(text: str, expected: datetime) -> None:
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(parse_timestamp(pl.col("v"))).item() == expected
    # a slash-date order or dotted dates change no ISO date
    assert frame.select(parse_timestamp(pl.col("v"), order="mdy", dotted=True)).item() == expected
    assert frame.select(parse_date(pl.col("v"))).item() == expected.date()


@pytest.mark.parametrize(("text", "expected"), DOTTED.items())
def test_dotted_timestamps(text: str, expected: datetime) -> None:
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(parse_timestamp(pl.col("v"), dotted=True)).item() == expected
    assert frame.select(parse_date(pl.col("v"), dotted=True)).item() == expected.date()


def test_a_file_with_dotted_dates_is_read_so() -> None:
    # coerce finds the dotted dates itself: 31.01.2026 is 31 January, 01.02.2026 is 1 February
    frame = _frame(["31.01.2026", "01.02.2026", "2026-02-03"])
    rows, rejects = coerce(frame, {"day": Col(Kind.DATE)}, path=Path("f.csv"))
    assert rejects.is_empty()
    assert rows.get_column("day").to_list() == [date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 3)]


@pytest.mark.parametrize(("text", "expected"), MDY.items())
def test_slash_dates_in_the_order_given(text: str, expected: datetime) -> None:
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(parse_timestamp(pl.col("v"), order="mdy")).item() == expected
    assert frame.select(parse_timestamp(pl.col("v"))).item() is None  # no order known: never guessed


def test_day_month_year_reads_the_other_way() -> None:
    frame = pl.DataFrame({"v": ["4/1/25", "31/12/2025 18:00"]})
    got = frame.select(parse_timestamp(pl.col("v"), order="dmy")).to_series().to_list()
    assert got == [datetime(2025, 1, 4), datetime(2025, 12, 31, 18)]


IMPOSSIBLE = ["02/30/2025", "13/01/2026", "4/1/2025 13:00 PM", "2026-02-30", "yesterday", "0/1/2025"]


@pytest.mark.parametrize("text", IMPOSSIBLE)
def test_impossible_dates_do_not_parse(text: str) -> None:
    # Feb 30 does not exist; month 13 does not under month/day/year; 13 PM is no hour; ...
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(parse_timestamp(pl.col("v"), order="mdy")).item() is None


def test_the_order_comes_from_the_values() -> None:
    series = pl.Series
    assert date_order([series(["4/1/25", "4/15/25"])]) == ("mdy", None)  # 15 can only be a day: second
    assert date_order([series(["4/1/25"]), series(["15/4/25"])]) == ("dmy", None)  # any column counts
    assert date_order([series(["2026-01-31", None])]) == (None, None)  # no slash dates: nothing to decide
    order, problem = date_order([series(["4/1/25", "4/2/25"])])  # every part is 12 or less
    assert order is None and 'billing = "mdy"' in problem
    assert date_order([series(["4/1/25", "4/2/25"])], default="mdy") == ("mdy", None)  # a format's documented order
    assert date_order([series(["4/1/25", "4/2/25"])], "dmy") == ("dmy", None)  # the config says
    assert date_order([series(["2026-01-31"])], "dmy") == (None, None)  # ... where there is something to say
    order, problem = date_order([series(["13/1/25", "1/13/25"])])
    assert order is None and "both day/month/year and month/day/year" in problem


def _frame(values: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"day": values}).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def test_a_bad_date_is_quarantined_naming_the_format_expected() -> None:
    # rows 1 and 2 read month/day/year (a second part of 15); row 3 is 30 February
    rows, rejects = coerce(_frame(["4/1/25", "4/15/25", "2/30/25"]), {"day": Col(Kind.DATE)}, path=Path("f.csv"))
    assert rows.get_column("day").to_list() == [date(2025, 4, 1), date(2025, 4, 15)]
    reason = "expected a date like 2026-01-31 or 01/31/2026 (month/day/year, as this file writes its dates)"
    assert rejects.rows() == [(3, "day", "2/30/25", reason)]
    # an ISO file's bad date names both forms it could have been
    _, rejects = coerce(_frame(["2026-01-31", "31 Jan"]), {"day": Col(Kind.DATE)}, path=Path("f.csv"))
    assert rejects.rows() == [(2, "day", "31 Jan", "expected a date like 2026-01-31 or 01/31/2026")]


def test_a_malformed_slash_date_is_quarantined_not_taken_as_the_files_order() -> None:
    # "03/02/2026 00h" is no date at all (00h is no time): it says nothing about the order and is
    # quarantined on its own; the ISO row loads
    rows, rejects = coerce(_frame(["2026-01-05", "03/02/2026 00h"]), {"day": Col(Kind.DATE)}, path=Path("f.csv"))
    assert rows.get_column("day").to_list() == [date(2026, 1, 5)]
    assert rejects.rows() == [(2, "day", "03/02/2026 00h", "expected a date like 2026-01-31 or 01/31/2026")]


def test_the_general_and_the_quick_pass_read_slash_dates_alike() -> None:
    # 40 rows of 8 distinct dates: parsed once per distinct text in the quick pass; one bad row
    # sends the file through the general pass, which must type the other 40 the same way
    values = [f"{1 + i % 8}/{13 + i % 8}/2025" for i in range(40)]  # day 13..20 second: month/day/year
    schema = {"day": Col(Kind.DATE)}
    quick, none = coerce(_frame(values), schema, path=Path("f.csv"))
    general, one = coerce(_frame([*values, "not a date"]), schema, path=Path("f.csv"))
    assert none.is_empty() and one.get_column(ROW).to_list() == [41]
    assert quick.get_column("day").to_list() == general.get_column("day").to_list()
    assert quick.get_column("day").to_list()[:2] == [date(2025, 1, 13), date(2025, 2, 14)]


def test_an_ambiguous_file_is_refused_naming_row_column_and_setting() -> None:
    with pytest.raises(InputError) as caught:
        coerce(_frame(["2026-01-05", "4/1/25", "4/2/25"]), {"day": Col(Kind.DATE)}, path=Path("f.csv"))
    message = str(caught.value)
    assert message.startswith("f.csv, row 2, column 'day': cannot tell the day from the month in '4/1/25'")
    assert '[dates] in costledger.toml, e.g. billing = "mdy" (or "dmy")' in message
    frame = _frame(["2026-01-05", "4/1/25", "4/2/25"])
    rows, _ = coerce(frame, {"day": Col(Kind.DATE)}, path=Path("f.csv"), dates="dmy")
    assert rows.get_column("day").to_list() == [date(2026, 1, 5), date(2025, 1, 4), date(2025, 2, 4)]


FOCUS_HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,ProviderName,ServiceName"
)


def _run(tmp_path: Path, rows: list[str], config: str = "") -> tuple[int, str, Path]:
    ws = tmp_path / "ws"
    if not ws.exists():
        assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    if config:
        with (ws / "costledger.toml").open("a", encoding="utf-8") as handle:
            handle.write(config)
    text = "\n".join([FOCUS_HEADER, *rows]) + "\n"
    (ws / "inbox" / "billing" / "focus-example.csv").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", "-w", str(ws), "--month", "2025-04"])
    return result.exit_code, result.output, ws


def _sql(ws: Path, query: str) -> list[str]:
    result = runner.invoke(app, ["sql", "-w", str(ws), "--format", "csv", query])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[1:]


def test_focus_example_with_us_dates_loads_through_the_cli(tmp_path: Path) -> None:
    # FOCUS example files write 4/1/25; the 4/15/25 charge shows the order is month/day/year.
    # Billed total by hand: 1.50 + 2.25 = 3.75, both in billing period 2025-04.
    rows = [
        "acct,4/1/25,5/1/25,4/1/25 0:00,4/2/25 0:00,Usage,1.50,1.50,USD,Microsoft,Virtual Machines",
        "acct,4/1/25,5/1/25,4/15/25 0:00,4/16/25 0:00,Usage,2.25,2.25,USD,Microsoft,Virtual Machines",
    ]
    code, output, ws = _run(tmp_path, rows)
    assert code == 0, output
    staged = "select x_BillingPeriod, count(*), sum(BilledCost)::varchar, min(ChargePeriodStart)::varchar"
    expected = ["2025-04,2,3.750000000000000000,2025-04-01 00:00:00"]
    assert _sql(ws, staged + " from staging.billing group by 1") == expected
    ledger = "select sum(billed_cost)::varchar from ledger.cost_ledger where source = 'billing'"
    assert _sql(ws, ledger) == ["3.750000000000000000"]


def test_an_ambiguous_focus_file_exits_2_then_loads_with_the_setting(tmp_path: Path) -> None:
    # every date has both parts <= 12: 4/1/25 is 1 April or 4 January; refused, nothing guessed
    rows = [
        "acct,4/1/25,5/1/25,4/1/25,4/2/25,Usage,1.50,1.50,USD,Microsoft,Virtual Machines",
        "acct,4/1/25,5/1/25,4/2/25,4/3/25,Usage,2.25,2.25,USD,Microsoft,Virtual Machines",
    ]
    code, output, ws = _run(tmp_path, rows)
    assert code == 2, output
    where = "focus-example.csv, row 1, column 'BillingPeriodStart': "
    assert where + "cannot tell the day from the month in '4/1/25'" in output
    assert 'billing = "mdy"' in output and "Traceback" not in output
    assert _sql(ws, "select status, rows_in, rows_loaded from meta.loads") == ["rejected,0,0"]
    # the user says month/day/year; the rejected file is read again: 1.50 + 2.25 = 3.75 in April 2025
    code, output, ws = _run(tmp_path, rows, config='\n[dates]\nbilling = "mdy"\n')
    assert code == 0, output
    assert _sql(ws, "select status, rows_loaded, rows_quarantined from meta.loads") == ["loaded,2,0"]
    april = "select sum(billed_cost)::varchar from ledger.cost_ledger where billing_period = '2025-04'"
    assert _sql(ws, april) == ["3.750000000000000000"]


def test_an_unknown_dates_setting_is_a_config_error(tmp_path: Path) -> None:
    code, output, _ = _run(
        tmp_path,
        ["acct,2025-04-01,2025-05-01,2025-04-01,2025-04-02,Usage,1,1,USD,Microsoft,VM"],
        config='\n[dates]\nbilling = "ymd-ish"\n',
    )
    assert code == 2
    assert "dates.billing" in output
