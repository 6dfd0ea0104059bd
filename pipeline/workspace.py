"""A workspace is a folder: its config file, inbox/<source>/ landing folders, warehouse.duckdb and
reports/YYYY-MM/. Any source may be absent."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.columns import SOURCES
from pipeline.config import CONFIG_FILE, Config, load_config
from pipeline.errors import CostLedgerError

DEFAULT_CONFIG = """\
# costledger workspace configuration. Money is written as strings ("0.12") and read exactly.
reporting_currency = "USD"

# Registered models. Cost that no rule maps to one of these lands in __unallocated__.
# [[models]]
# id = "search-ranker"
# name = "Search ranking"
# business_line = "search"
# team = "search-relevance"
# owner = "head-of-search"
# [[models.moves]]        # dated: from this day the model belongs to another team (history stays)
# since = 2026-03-01
# team = "search-platform"

[attribution]
# Billing tag keys that name a model, in precedence order (case and surrounding spaces ignored).
tag_keys = ["model"]

# [[attribution.rules]]   # then these, first match wins (regular expression, full match)
# field = "SubAccountId"
# pattern = "123456789012"
# model = "search-ranker"

# [[workloads]]           # GPU telemetry: Kubernetes namespace (and pod) to model
# namespace = "search"
# model = "search-ranker"
# phase = "inference"     # or training, fine_tuning, experimentation, data_preparation, shared

# [phases]                # phase of rows no rule places, per source (unit costs read inference only)
# labor = "shared"

# [[gpu_pools]]           # shared GPU nodes, split by GPU-time held; the rest is __idle__
# name = "gpu-pool"
# node_pattern = "gpu-node-.*"
# gpus_per_node = 4

# [[shared_pools]]        # platform cost distributed by policy: proportional, even, fixed, keep
# name = "support"
# service_name = "Support.*"
# policy = "proportional"
# window = "day"          # proportional to each day's direct cost, or "month": to the period's

# [dates]                 # slash dates, per source: "auto" (read from the file), "mdy" (04/01 is 1 April) or "dmy"
# billing = "mdy"

[owned]
pue = "1.4"
tariff_per_kwh = "0.12"
tariff_currency = "USD"

[labor]
# Labor reaches models at standard rates per rate group, each the mean of at least k people, fixed
# for its rate period; no published labor figure stands for fewer than k people.
k_anonymity = 3
rate_period = "year"      # or "quarter"
# families = { "sre" = "engineering", "ml-engineer" = "engineering" }   # role band -> role family

[quarantine]
# A run exits 2 (after loading and publishing the good files) when a file is rejected or more
# than this share of its rows is quarantined.
max_share = "0.5"

# [ingest]                # limits every inbox file must keep (a file beyond one is rejected, naming it)
# max_file_mib = 1024     # content of one file, gzip decompressed
# max_gzip_ratio = 100    # how many times its size a gzip file may expand
# max_line_mib = 16       # longest line
# max_field_mib = 4       # longest CSV value
# settle_seconds = 60     # a file modified more recently may still be being written: a later run reads it
"""


# DuckDB reads the workspace's files by glob patterns (the raw layer, a parse's chunks), and a glob
# has no escape for these: under a folder named `team[1]` they would name other folders
GLOB_CHARACTERS = frozenset("*?[]")


def _plain_path(root: Path) -> Path:
    """`root`, unless its full path holds a glob character (GLOB_CHARACTERS): then a clear error."""
    found = sorted(GLOB_CHARACTERS.intersection(str(root.resolve())))
    if found:
        raise CostLedgerError(
            f"{root}: a workspace folder's path cannot hold {' '.join(found)}: DuckDB reads the workspace's "
            "files by glob patterns, where these characters match other names; rename or move the folder"
        )
    return root


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        root = _plain_path(Path(root))
        if not root.is_dir():
            raise CostLedgerError(f"{root}: no such workspace folder; `costledger init {root}` makes one")
        if not (root / CONFIG_FILE).is_file():
            raise CostLedgerError(f"{root}: not a workspace (no {CONFIG_FILE}); `costledger init {root}` makes one")
        return cls(root)

    @classmethod
    def init(cls, root: Path | str, *, config_text: str = DEFAULT_CONFIG) -> Workspace:
        root = _plain_path(Path(root))
        root.mkdir(parents=True, exist_ok=True)
        for source in SOURCES:
            folder = root / "inbox" / source
            if source == "labor" and not folder.exists():  # HR files hold pay: the folder is owner-only
                folder.mkdir(parents=True, mode=0o700)
                folder.chmod(0o700)
            folder.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_FILE
        if not config.exists():
            config.write_text(config_text, encoding="utf-8")
        return cls(root)

    @cached_property
    def config(self) -> Config:
        return load_config(self.root / CONFIG_FILE, accepted=self.root / "work" / "accepted-patterns.json")

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def restricted(self) -> Path:
        """HR rows live here, owner-only, never in the shared warehouse."""
        return self.root / "restricted" / "hr.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    def report_dir(self, month: str) -> Path:
        return self.reports / month

    def source_files(self, source: str) -> list[Path]:
        """Files waiting in inbox/<source>/, sorted by relative path (hidden files skipped)."""
        folder = self.inbox / source
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
