-- One row per billing row being routed (_billing_loads): the decisions of its routing class
-- (_billing_routes, billing_class_routes.sql: route, category, model, GPU pool, shared pool) and
-- the ledger columns every part of the row starts from. The quantity keeps 9 decimals, rounded
-- half to even.

with billing_rows as (
    select b.*, money_quanta(b.ConsumedQuantity) as quantity_q
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
),

quantities as (
    select *, floor_div_bounded(quantity_q, 1000000000::hugeint) as quantity_floor
    from billing_rows
),

final as (
    select
        b.load_id,
        b.row_number,
        b.x_BillingPeriod as billing_period,
        b.load_id || ':' || b.row_number as source_ref,
        c.route,
        c.category,
        c.subcategory,
        coalesce(c.tag_model, c.rule_model) as model_id,
        c.tag_unknown,
        c.pool,
        c.gpus,
        c.hostname,
        c.shared_pool,
        c.rule_phase,
        b.ChargePeriodStart,
        b.ChargePeriodEnd,
        b.BilledCost as source_amount,
        b.EffectiveCost as source_effective_amount,
        b.BillingCurrency as source_currency,
        quantity_of_nanos(even_round(b.quantity_q, 1000000000::hugeint, b.quantity_floor)) as quantity,
        b.ConsumedUnit as quantity_unit,
        b.ProviderName as provider
    from quantities as b
    inner join _billing_routes as c
        on b.ChargeCategory = c.ChargeCategory
        and b.ServiceCategory is not distinct from c.ServiceCategory
        and b.ServiceName is not distinct from c.ServiceName
        and b.ChargeDescription is not distinct from c.ChargeDescription
        and coalesce(b.PublisherName <> b.InvoiceIssuerName, false) = c.publisher_differs
        and b.Tags::varchar is not distinct from c.tags
        and b.ResourceName is not distinct from c.ResourceName
        and b.ResourceId is not distinct from c.ResourceId
        and b.BillingAccountId is not distinct from c.BillingAccountId
        and b.SubAccountId is not distinct from c.SubAccountId
        and b.SubAccountName is not distinct from c.SubAccountName
        and (b.CommitmentDiscountId is not null) = c.commitment
)

select * from final
