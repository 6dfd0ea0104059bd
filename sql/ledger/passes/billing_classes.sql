-- One row per routing class of the billing rows being routed (_billing_loads): the distinct values
-- of the columns that decide a row's category, model, GPU pool and shared pool
-- (billing_class_routes.sql decides them once per class; billing_routed.sql joins them back).

with billing_rows as (
    select b.*
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
),

classes as (
    select distinct
        ChargeCategory,
        ServiceCategory,
        ServiceName,
        ChargeDescription,
        coalesce(PublisherName <> InvoiceIssuerName, false) as publisher_differs,
        Tags::varchar as tags,
        ResourceName,
        ResourceId,
        BillingAccountId,
        SubAccountId,
        SubAccountName,
        CommitmentDiscountId is not null as commitment
    from billing_rows
),

final as (
    select * from classes
)

select * from final
