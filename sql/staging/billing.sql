create table if not exists staging.billing (
    load_id                 varchar not null,
    row_number              bigint not null,
    BillingAccountId        varchar,
    BillingAccountName      varchar,
    SubAccountId            varchar,
    SubAccountName          varchar,
    BillingPeriodStart      timestamp not null,
    BillingPeriodEnd        timestamp,
    ChargePeriodStart       timestamp not null,
    ChargePeriodEnd         timestamp not null,
    ChargeCategory          varchar not null,
    ChargeClass             varchar,
    ChargeDescription       varchar,
    ChargeFrequency         varchar,
    BilledCost              decimal(38, 18) not null,
    EffectiveCost           decimal(38, 18) not null,
    ListCost                decimal(38, 18),
    ContractedCost          decimal(38, 18),
    BillingCurrency         varchar not null,
    ConsumedQuantity        decimal(38, 18),
    ConsumedUnit            varchar,
    PricingQuantity         decimal(38, 18),
    PricingUnit             varchar,
    ProviderName            varchar not null,
    PublisherName           varchar,
    InvoiceIssuerName       varchar,
    InvoiceId               varchar,
    RegionId                varchar,
    ResourceId              varchar,
    ResourceName            varchar,
    ResourceType            varchar,
    ServiceCategory         varchar,
    ServiceName             varchar,
    SkuId                   varchar,
    SkuPriceId              varchar,
    CommitmentDiscountId    varchar,
    CommitmentDiscountType  varchar,
    CommitmentDiscountStatus varchar,
    Tags                    json,
    x_BillingPeriod         varchar not null,
    x_SourceFormat          varchar not null
);
comment on table staging.billing is 'One row per source charge of the active file versions, in FOCUS 1.2 column names; money exact in the billing currency.';
comment on column staging.billing.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.billing.row_number is 'Row number in that file (raw.source_rows.row_number).';
comment on column staging.billing.BillingAccountId is 'FOCUS: provider-assigned id of the billing account.';
comment on column staging.billing.BillingAccountName is 'FOCUS: display name of the billing account.';
comment on column staging.billing.SubAccountId is 'FOCUS: id of the sub account (AWS account, Azure subscription, GCP project).';
comment on column staging.billing.SubAccountName is 'FOCUS: name of the sub account.';
comment on column staging.billing.BillingPeriodStart is 'FOCUS: inclusive start of the billing period (UTC).';
comment on column staging.billing.BillingPeriodEnd is 'FOCUS: exclusive end of the billing period (UTC).';
comment on column staging.billing.ChargePeriodStart is 'FOCUS: inclusive start of the period the charge covers (UTC).';
comment on column staging.billing.ChargePeriodEnd is 'FOCUS: exclusive end of the period the charge covers (UTC).';
comment on column staging.billing.ChargeCategory is 'FOCUS: Usage, Purchase, Tax, Credit or Adjustment (spelling normalised).';
comment on column staging.billing.ChargeClass is 'FOCUS: Correction for corrections of a prior period, else null.';
comment on column staging.billing.ChargeDescription is 'FOCUS: provider text describing the charge.';
comment on column staging.billing.ChargeFrequency is 'FOCUS: One-Time, Recurring or Usage-Based (spelling normalised).';
comment on column staging.billing.BilledCost is 'FOCUS: cost invoiced, in BillingCurrency, exact.';
comment on column staging.billing.EffectiveCost is 'FOCUS: amortised cost after commitment discounts, in BillingCurrency, exact.';
comment on column staging.billing.ListCost is 'FOCUS: cost at list prices.';
comment on column staging.billing.ContractedCost is 'FOCUS: cost at contracted prices.';
comment on column staging.billing.BillingCurrency is 'FOCUS: ISO 4217 currency of the bill.';
comment on column staging.billing.ConsumedQuantity is 'FOCUS: usage quantity.';
comment on column staging.billing.ConsumedUnit is 'FOCUS: unit of ConsumedQuantity.';
comment on column staging.billing.PricingQuantity is 'FOCUS: quantity in pricing units.';
comment on column staging.billing.PricingUnit is 'FOCUS: pricing unit.';
comment on column staging.billing.ProviderName is 'FOCUS: who provided the resource or service.';
comment on column staging.billing.PublisherName is 'FOCUS: who published it (differs for marketplace charges).';
comment on column staging.billing.InvoiceIssuerName is 'FOCUS: who issued the invoice.';
comment on column staging.billing.InvoiceId is 'FOCUS 1.2: invoice the charge belongs to; null while the bill is not final.';
comment on column staging.billing.RegionId is 'FOCUS: provider region id.';
comment on column staging.billing.ResourceId is 'FOCUS: provider resource id (an instance id for a GPU node).';
comment on column staging.billing.ResourceName is 'FOCUS: resource display name (a node host name).';
comment on column staging.billing.ResourceType is 'FOCUS: kind of resource.';
comment on column staging.billing.ServiceCategory is 'FOCUS: Compute, Storage, Networking, ... (drives the default category rules).';
comment on column staging.billing.ServiceName is 'FOCUS: provider service name.';
comment on column staging.billing.SkuId is 'FOCUS: SKU id.';
comment on column staging.billing.SkuPriceId is 'FOCUS: SKU price id.';
comment on column staging.billing.CommitmentDiscountId is 'FOCUS: reservation / savings plan the charge relates to.';
comment on column staging.billing.CommitmentDiscountType is 'FOCUS: provider label of the commitment type.';
comment on column staging.billing.CommitmentDiscountStatus is 'FOCUS: Used or Unused.';
comment on column staging.billing.Tags is 'FOCUS: tags as a JSON object, keys and values as delivered.';
comment on column staging.billing.x_BillingPeriod is 'Billing period as YYYY-MM (month of BillingPeriodStart): the ledger partition.';
comment on column staging.billing.x_SourceFormat is 'Format the row was read from, e.g. focus-1.0.';
