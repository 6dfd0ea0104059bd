"""Azure cost details' header spellings: every name a field has had in the layouts Microsoft has
shipped (`HEADERS`), the key a header is compared by (`header_key`: the English name in brackets,
lower case, letters and digits only) and a file's headers resolved to the fields (`resolve`).
The Azure adapter (azure.py) reads through them."""

from __future__ import annotations

import re

from pipeline.ingest.parse import ROW

# Canonical field -> every header spelling that means it, in order of preference (the first one
# a file has wins). Spellings are compared by `header_key`: PascalCase, camelCase and spaced
# forms are one entry. Where each comes from:
# - Microsoft Learn, Cost Management dataset schemas: cost-usage-details-ea (2024-08-01,
#   2023-12-01-preview, 2021-10-01), cost-usage-details-mca, cost-usage-details-mca-partner,
#   cost-usage-details-mca-partner-subscription, cost-usage-details-pay-as-you-go (2019-11-01),
#   usage-details-ea-2019-10-01 .. 2021-01-01, usage-details-mca-2019-10-01 .. 2021-01-01;
#   "Understand cost details fields" (Cost = CostInBillingCurrency, Currency = BillingCurrency,
#   older terms UsageDate/UsageStart -> Date, InstanceId -> ResourceId, Rate -> EffectivePrice);
#   "Migrate from EA usage details APIs" and "Migrate from EA to MCA usage fields" (ExtendedCost
#   and Cost -> CostInBillingCurrency, SubscriptionGuid -> SubscriptionId, ServiceName ->
#   MeterCategory, ResourceGuid -> MeterId, usageStartDate -> Date, ConsumedQuantity -> Quantity).
# - microsoft/finops-toolkit docs-mslearn/focus/convert.md and mapping.md (Cost Management
#   actual/amortized -> FOCUS: BillingAccountId from BillingProfileId for MCA, InvoiceIssuerName
#   from PartnerName, ListCost from PaygCostInBillingCurrency, Tags wrapped in braces if needed).
# - opencost pkg/cloud/azure/billingexportparser.go and its header sets (Enterprise,
#   EnterpriseCamel, PayAsYouGo, German, BOM, MissingBrackets): the English name in brackets,
#   UsageDateTime/Date, SubscriptionGuid, InstanceId/InstanceName/ResourceId,
#   costinbillingcurrency/pretaxcost/cost, tags without braces.
# - project-koku masu/util/azure (INGRESS_REQUIRED_COLUMNS, INGRESS_ALT_COLUMNS,
#   azure_json_converter for `"key": "value"` tag lists).
HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("Date", "UsageDateTime", "UsageDate", "UsageStartDate", "UsageStart"),
    "billingperiodstartdate": ("BillingPeriodStartDate",),
    "billingperiodenddate": ("BillingPeriodEndDate",),
    "cost": ("CostInBillingCurrency", "Cost", "PreTaxCost", "ExtendedCost"),
    "billingcurrency": ("BillingCurrency", "BillingCurrencyCode", "Currency"),
    "pricingcurrency": ("PricingCurrency", "PricingCurrencyCode"),
    "paygcost": ("PaygCostInBillingCurrency",),
    "paygprice": ("PayGPrice", "MarketPrice"),
    "quantity": ("Quantity", "UsageQuantity", "ConsumedQuantity"),
    "unitofmeasure": ("UnitOfMeasure", "Unit"),
    "billingaccountid": ("BillingAccountId",),
    "billingaccountname": ("BillingAccountName",),
    "billingprofileid": ("BillingProfileId",),
    "billingprofilename": ("BillingProfileName",),
    "subscriptionid": ("SubscriptionId", "SubscriptionGuid"),
    "subscriptionname": ("SubscriptionName",),
    "chargetype": ("ChargeType",),
    "pricingmodel": ("PricingModel",),
    "frequency": ("Frequency",),
    "metercategory": ("MeterCategory", "ServiceName"),
    "consumedservice": ("ConsumedService",),
    "product": ("ProductName", "Product"),
    "metername": ("MeterName",),
    "partnumber": ("PartNumber",),
    "productid": ("ProductId",),
    "meterid": ("MeterId", "ResourceGuid"),
    "resourcelocation": ("ResourceLocation", "ResourceLocationNormalized", "Location"),
    "resourceid": ("ResourceId", "InstanceId", "InstanceName"),
    "resourcename": ("ResourceName",),
    "publishername": ("PublisherName",),
    "publishertype": ("PublisherType",),
    "invoiceid": ("InvoiceId",),
    "reservationid": ("ReservationId",),
    "benefitid": ("BenefitId",),
    "partnername": ("PartnerName",),
    "partnertenantid": ("PartnerTenantId",),
    "customertenantid": ("CustomerTenantId",),
    "tags": ("Tags",),
}


# header key -> the field it spells
SPELLINGS: dict[str, str] = {}
for _canonical_name, _names in HEADERS.items():
    for _name in _names:
        SPELLINGS.setdefault(re.sub(r"[^0-9a-z]", "", _name.lower()), _canonical_name)


def header_key(header: str) -> str:
    """A header as the map compares it: the English name in brackets if any (localised portal
    downloads), lower case, letters and digits only, without a byte-order mark."""
    text = header.replace("\ufeff", "").strip().strip('"')
    bracketed = re.search(r"\(([^()]*[A-Za-z][^()]*)\)\s*$", text)
    if bracketed:
        text = bracketed.group(1)
    return re.sub(r"[^0-9a-z]", "", text.lower())


def resolve(header: list[str]) -> dict[str, str]:
    """Canonical field -> the file's header for it (the most preferred spelling present)."""
    keys = {header_key(name): name for name in header if name != ROW}
    found = {}
    for canonical, names in HEADERS.items():
        for name in names:
            key = re.sub(r"[^0-9a-z]", "", name.lower())
            if key in keys:
                found[canonical] = keys[key]
                break
    return found
