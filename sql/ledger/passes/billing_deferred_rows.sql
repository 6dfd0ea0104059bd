-- Keeps the routed billing rows whose split needs more than the row (_routed, billing_routed.sql:
-- GPU-pool nodes and shared pools) in ledger.billing_deferred under the recipe $recipe.
insert into ledger.billing_deferred by name
with final as (
    select
        $recipe as recipe,
        load_id,
        billing_period,
        row_number,
        route,
        coalesce(pool, shared_pool) as pool,
        gpus,
        hostname,
        category,
        subcategory,
        ChargePeriodStart,
        ChargePeriodEnd,
        source_amount,
        source_effective_amount,
        source_currency,
        quantity,
        quantity_unit,
        provider
    from _routed
    where route in ('gpu_pool', 'shared')
)

select * from final
