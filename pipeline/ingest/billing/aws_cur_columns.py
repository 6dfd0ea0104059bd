"""The AWS Cost and Usage Report columns the CUR adapter (aws_cur.py) reads, in CUR 2.0 names, with
their types; the columns that identify CUR 2.0 and the legacy CUR; and what each line item type is
in FOCUS terms."""

from __future__ import annotations

from pipeline.ingest.parse import Col, Kind

T, M, TS = Kind.TEXT, Kind.MONEY, Kind.TIMESTAMP
# CUR 2.0 names; legacy headers are renamed to these first.
SCHEMA: dict[str, Col] = {
    "bill_payer_account_id": Col(T),
    "bill_payer_account_name": Col(T),
    "bill_billing_period_start_date": Col(TS, True),
    "bill_billing_period_end_date": Col(TS),
    "bill_invoice_id": Col(T),
    "bill_invoicing_entity": Col(T),
    "line_item_usage_account_id": Col(T),
    "line_item_usage_account_name": Col(T),
    "line_item_line_item_type": Col(T, True),
    "line_item_usage_start_date": Col(TS, True),
    "line_item_usage_end_date": Col(TS, True),
    "line_item_product_code": Col(T),
    "line_item_line_item_description": Col(T),
    "line_item_usage_amount": Col(Kind.QUANTITY),
    "line_item_currency_code": Col(T),
    "line_item_unblended_cost": Col(M, True),
    "line_item_legal_entity": Col(T),
    "line_item_resource_id": Col(T),
    "product_product_name": Col(T),
    "product_servicename": Col(T),
    "product_region_code": Col(T),
    "product_region": Col(T),
    "product_sku": Col(T),
    "pricing_unit": Col(T),
    "pricing_currency": Col(T),
    "pricing_rate_id": Col(T),
    "pricing_public_on_demand_cost": Col(M),
    "reservation_reservation_a_r_n": Col(T),
    "reservation_effective_cost": Col(M),
    "reservation_unused_amortized_upfront_fee_for_billing_period": Col(M),
    "reservation_unused_recurring_fee": Col(M),
    "savings_plan_savings_plan_a_r_n": Col(T),
    "savings_plan_savings_plan_effective_cost": Col(M),
    "savings_plan_total_commitment_to_date": Col(M),
    "savings_plan_used_commitment": Col(M),
    "resource_tags": Col(T),
    "cost_category": Col(T),
}
SIGNATURE_CUR2: tuple[str, ...] = (
    "line_item_line_item_type",
    "line_item_unblended_cost",
    "line_item_usage_start_date",
    "bill_billing_period_start_date",
)
SIGNATURE_LEGACY: tuple[str, ...] = (
    "lineItem/LineItemType",
    "lineItem/UnblendedCost",
    "lineItem/UsageStartDate",
    "bill/BillingPeriodStartDate",
)

# line item type -> (ChargeCategory, ChargeClass, ChargeFrequency)
LINE_ITEM_TYPES: dict[str, tuple[str, str | None, str]] = {
    "Usage": ("Usage", None, "Usage-Based"),
    "DiscountedUsage": ("Usage", None, "Usage-Based"),
    "SavingsPlanCoveredUsage": ("Usage", None, "Usage-Based"),
    "SavingsPlanNegation": ("Usage", None, "Usage-Based"),
    "Fee": ("Purchase", None, "One-Time"),
    "RIFee": ("Purchase", None, "Recurring"),
    "SavingsPlanUpfrontFee": ("Purchase", None, "One-Time"),
    "SavingsPlanRecurringFee": ("Purchase", None, "Recurring"),
    "Tax": ("Tax", None, "Recurring"),
    "Credit": ("Credit", None, "One-Time"),
    "Refund": ("Credit", "Correction", "One-Time"),
    "BundledDiscount": ("Credit", None, "Usage-Based"),
    "Discount": ("Credit", None, "Usage-Based"),
    "EdpDiscount": ("Credit", None, "Usage-Based"),
    "PrivateRateDiscount": ("Credit", None, "Usage-Based"),
    "DistributorDiscount": ("Credit", None, "Usage-Based"),
    "SppDiscount": ("Credit", None, "Usage-Based"),
    "SavingsPlanNegationAdjustment": ("Adjustment", "Correction", "One-Time"),
}
