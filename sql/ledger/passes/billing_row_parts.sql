-- One part per billing row routed on its own (_routed, billing_routed.sql), before it is spread over
-- days: a commitment purchase stays __shared__ (its cost reaches models as the effective cost of the
-- usage it covers); a row whose tag or attribution rule names a registered model is direct; the
-- rest is __unallocated__ with the reason. GPU-pool nodes and shared pools are split elsewhere.
-- A phase rule (meta.phase_rules) that matches the row names its phase.

with routed as (
    select *
    from _routed
    where route in ('direct', 'commitment', 'unallocated')
),

final as (
    select
        billing_period,
        -- a phase rule's phase rides with the model (ledger_rows.sql takes it apart)
        case route when 'direct' then model_id when 'commitment' then '__shared__' else '__unallocated__' end
        || coalesce('~' || rule_phase, '') as model_id,
        category,
        case when route = 'commitment' then 'commitment_purchase' else subcategory end as subcategory,
        source_amount,
        source_effective_amount,
        source_currency,
        quantity,
        quantity_unit,
        'billing' as source,
        provider,
        case route when 'direct' then 'direct' when 'commitment' then 'shared_pool' else 'unallocated' end
            as allocation_method,
        1::decimal(38, 18) as allocation_share,
        case
            when route <> 'unallocated' then null
            when tag_unknown is not null then 'unregistered_model:' || tag_unknown
            else 'no_matching_rule'
        end as unallocated_reason,
        source_ref,
        '' as split_key,
        ChargePeriodStart,
        ChargePeriodEnd
    from routed
)

select * from final
