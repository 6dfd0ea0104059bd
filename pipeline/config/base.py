"""What every table of the configuration shares: strict pydantic models (a misspelt key is an
error that names it), the model id format, and the checks of a regex the pipeline runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pipeline import patterns

ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def row_regex(value: str) -> str:
    """A pattern the ledger build runs on billing or telemetry rows (DuckDB) and Polars may run
    on them too (tests, telemetry readers): both must take it."""
    return patterns.check(value, patterns.POLARS, patterns.DUCKDB)


def row_and_sql_regex(value: str) -> str:
    """A pattern Polars runs on rows and DuckDB runs again in the marts and recommendations."""
    return patterns.check(value, patterns.POLARS, patterns.DUCKDB)
