"""Names declared once: FOCUS 1.2 billing columns, ledger columns, categories and buckets, the
inbox's sources."""

from __future__ import annotations

from enum import StrEnum

# Money is exact: DECIMAL(38, 18) in DuckDB, pl.Decimal(38, 18) in Polars. The scale holds every
# digit real exports carry (FOCUS and CUR use at most 11 decimals); 20 integer digits remain.
MONEY_PRECISION = 38
MONEY_SCALE = 18
# FX rates and other multipliers carry at most 10 decimals so that amount x rate stays inside a
# 128-bit integer (see pipeline.money).
RATE_SCALE = 10
# Quantities (GPU-hours, kWh, requests) are exact too, with a coarser scale.
QUANTITY_SCALE = 9


class Category(StrEnum):
    """The six cost categories: every ledger row is in exactly one."""

    HARDWARE = "hardware"
    SOFTWARE = "software"
    DATA = "data"
    LABOR = "labor"
    OPERATIONAL = "operational"
    TIME = "time"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)


class Bucket(StrEnum):
    """Explicit catch-all models: cost is never dropped, it lands in one of these."""

    IDLE = "__idle__"  # paid GPU time no workload held
    UNALLOCATED = "__unallocated__"  # no rule matched; `unallocated_reason` says why
    SHARED = "__shared__"  # platform cost kept undistributed by policy


BUCKETS: tuple[str, ...] = tuple(b.value for b in Bucket)


class CostBasis(StrEnum):
    """What backs a ledger row's amount."""

    CASH = "cash"  # a bill, a depreciation schedule, payroll or an invoice
    OPPORTUNITY = "opportunity"  # cost of delay (milestones): money nobody was billed


COST_BASES: tuple[str, ...] = tuple(b.value for b in CostBasis)
# The inbox's sources: each is a folder inbox/<source>/ of a workspace, and what a remote source feeds.
SOURCES: tuple[str, ...] = (
    "billing",
    "telemetry",
    "labor",
    "assets",
    "charges",
    "usage",
    "optimizations",
    "milestones",
    "fx",
    "budgets",
)
# Sources whose rows are opportunity cost; every other source is cash.
OPPORTUNITY_SOURCES: tuple[str, ...] = ("milestones",)


class Phase(StrEnum):
    """Lifecycle phase of the work a cost served (unit costs of serving read inference only)."""

    TRAINING = "training"
    FINE_TUNING = "fine_tuning"
    INFERENCE = "inference"
    EXPERIMENTATION = "experimentation"
    DATA_PREPARATION = "data_preparation"
    SHARED = "shared"


PHASES: tuple[str, ...] = tuple(p.value for p in Phase)
# Joins a workload's model and phase inside the GPU splits (model ids never hold it); the ledger's
# last pass (sql/ledger/passes/ledger_rows.sql) takes them apart again.
PHASE_MARK = "~"


class AllocationMethod(StrEnum):
    DIRECT = "direct"  # tag/label/account rule named the model
    GPU_TIME = "gpu_time"  # share of GPU-seconds held on a shared node
    GPU_UTILISATION = "gpu_utilisation"  # share of GPU-seconds held x measured utilisation
    ENERGY = "energy"  # share of measured energy on an owned server
    SHARED_POOL = "shared_pool"  # distributed by a shared-cost policy
    LABOR_SHARE = "labor_share"  # person's allocation to the model
    DELAY = "delay"  # days late x cost of delay
    SERVICE_PERIOD = "service_period"  # vendor charge spread over its service days
    UNALLOCATED = "unallocated"


# FOCUS 1.2 columns that staging.billing carries (one row per source charge), plus `x_` columns.
FOCUS_COLUMNS: tuple[str, ...] = (
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "InvoiceId",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "CommitmentDiscountId",
    "CommitmentDiscountType",
    "CommitmentDiscountStatus",
    "Tags",
)
FOCUS_MONEY_COLUMNS: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
FOCUS_QUANTITY_COLUMNS: tuple[str, ...] = ("ConsumedQuantity", "PricingQuantity")
FOCUS_TIME_COLUMNS: tuple[str, ...] = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)
# Mandatory in every FOCUS version this project reads; a file without them is not FOCUS.
FOCUS_REQUIRED: tuple[str, ...] = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
)

# ledger.cost_ledger, in order. The DDL is sql/ledger/cost_ledger.sql.
LEDGER_COLUMNS: tuple[str, ...] = (
    "charge_date",
    "billing_period",
    "model_id",
    "category",
    "subcategory",
    "billed_cost",
    "effective_cost",
    "currency",
    "source_amount",
    "source_effective_amount",
    "source_currency",
    "fx_rate",
    "quantity",
    "quantity_unit",
    "source",
    "provider",
    "allocation_method",
    "allocation_share",
    "unallocated_reason",
    "lineage_id",
    "source_ref",
    "run_id",
    "cost_basis",
    "phase",
    "economic_cost",
)
# A candidate row's content hash (ledger.cost_ledger_candidate.row_hash): every column but run_id (the
# build that wrote the row), hashed as the row is written, so that validation's day digests
# (sql/checks/day_digests.sql) add up one stored number per row rather than hash every column again.
ROW_HASH = "hash(" + ", ".join(c for c in LEDGER_COLUMNS if c != "run_id") + ")"
