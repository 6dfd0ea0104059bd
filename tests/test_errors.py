"""Messages and log lines: control characters escaped, one line each; the machine's errors named."""

from __future__ import annotations

import errno
import logging

import pytest

from pipeline.errors import EscapingFormatter, InputError, environment_problem, escape_control, machine_errno


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("tab\there\r", "tab\\there\\r"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("nul\x00 del\x7f c1\x85", "nul\\x00 del\\x7f c1\\x85"),
        ("line\u2028sep", "line\\u2028sep"),
        ("abc\u202eevil", "abc\\u202eevil"),  # a right-to-left override would show `liveabc`
        ("caf\u00e9 \u6a21\u578b C:\\path", "caf\u00e9 \u6a21\u578b C:\\path"),  # printable text and backslashes stay
    ],
)
def test_control_characters_are_escaped(text: str, shown: str) -> None:
    assert escape_control(text) == shown
    assert escape_control(shown) == shown  # escaping twice changes nothing


def test_an_input_error_names_the_file_on_one_line() -> None:
    error = InputError("bad header", path="inbox/usage/evil\nerror: forged.csv", row=0, column="a\tb")
    assert str(error) == "inbox/usage/evil\\nerror: forged.csv, row 0, column 'a\\tb': bad header"
    assert error.path == "inbox/usage/evil\nerror: forged.csv"  # the name itself is kept as it is


def test_the_log_formatter_escapes_the_message() -> None:
    record = logging.LogRecord("pipeline.x", logging.WARNING, __file__, 1, "skipping %s", ("a\nb",), None)
    assert EscapingFormatter("%(levelname)s %(message)s").format(record) == "WARNING skipping a\\nb"


@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/ws/warehouse.duckdb"),
            errno.ENOSPC,
            ["no space left to write /ws/warehouse.duckdb"],
        ),
        (
            RuntimeError('IO Error: Could not write file "/ws/warehouse.duckdb.wal": File too large'),
            errno.EFBIG,
            ["no space left to write /ws/warehouse.duckdb.wal (File too large)"],
        ),
        (
            RuntimeError("parquet: underlying IO error: No space left on device (os error 28)"),
            errno.ENOSPC,
            ["no space left to write the workspace"],
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/ws/.costledger.lock"),
            errno.EROFS,
            ["/ws/.costledger.lock is on a read-only file system"],
        ),
        (
            RuntimeError('IO Error: Cannot open file "/ws/warehouse.duckdb": Permission denied'),
            errno.EACCES,
            ["/ws/warehouse.duckdb: permission denied", "give this user write access"],
        ),
    ],
)
def test_the_machines_errors_are_named_with_what_to_do(exc: BaseException, code: int, words: list[str]) -> None:
    assert machine_errno(exc) == code
    message = str(environment_problem(exc))
    for word in words:
        assert word in message, message
    assert environment_problem(exc).exit_code == 2


def test_other_errors_are_not_the_machines() -> None:
    assert machine_errno(ValueError("year 0 is out of range")) is None
    assert machine_errno(OSError(errno.ENOENT, "No such file or directory")) is None
    assert str(environment_problem(FileNotFoundError(errno.ENOENT, "No such file or directory", "/ws/x"))) == (
        "cannot read or write /ws/x: No such file or directory"
    )
