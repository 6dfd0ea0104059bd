"""The size and fixed numbers of a generated benchmark workspace (pipeline.generators.scale):
`Spec` sizes a month, `SCALES` holds M, L and F, and model and host names are functions of an
index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MONTH = "2026-01"
FIRST_DAY = date(2026, 1, 1)
DAYS = 31
STEP = 60  # telemetry step, seconds
GPUS_PER_NODE = 8
NODE_HOURLY = Decimal("32.7726")  # effective cost of a cloud GPU node hour
EUR_RATE_BASE = Decimal("1.0800")  # + day % 5 thousandths
WATTS_BUSY, WATTS_IDLE = 300, 60
PUE, TARIFF = Decimal("1.5"), Decimal("0.12")  # 1 J costs 1.5 x 0.12 / 3.6e6 = 0.00000005
PURCHASE = Decimal("15000.00")  # a savings plan purchase on day 1 (billed, kept __shared__)


@dataclass(frozen=True)
class Spec:
    """How big a generated month is."""

    billing_rows: int  # in the month, all days
    gpus: int  # GPUS_PER_NODE per host; the last `owned_hosts` hosts are owned servers
    people: int
    models: int
    owned_hosts: int = 1
    days: int = DAYS  # the first `days` days of January
    single_file: bool = False  # the month's billing in one file (focus-2026-01.*), as a monthly export lands

    @property
    def hosts(self) -> int:
        return self.gpus // GPUS_PER_NODE

    @property
    def cloud_nodes(self) -> int:
        return self.hosts - self.owned_hosts

    def rows_on(self, day: int) -> int:
        """Billing rows of day `day` (0-based): the month's rows spread evenly, first days +1."""
        base, extra = divmod(self.billing_rows, self.days)
        return base + (1 if day < extra else 0)


SCALES: dict[str, Spec] = {
    "M": Spec(billing_rows=1_000_000, gpus=200, people=100, models=20, owned_hosts=2),
    "L": Spec(billing_rows=10_000_000, gpus=1_000, people=500, models=50, owned_hosts=5),
    # one monthly FOCUS export of 2,000,000 rows (about 1.4 GB as CSV), two small GPU servers
    "F": Spec(billing_rows=2_000_000, gpus=16, people=12, models=20, owned_hosts=1, single_file=True),
}


def model_id(index: int) -> str:
    return f"model-{index:03d}"


def host_name(host: int, spec: Spec) -> str:
    return f"dc1-gpu-{host:04d}" if host >= spec.cloud_nodes else f"gpu-node-{host:04d}"
