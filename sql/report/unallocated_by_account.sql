with unallocated as (
    select l.effective_cost, b.SubAccountId as account, b.SubAccountName as account_name, l.unallocated_reason
    from ledger.cost_ledger as l
    inner join staging.billing as b on l.source_ref = b.load_id || ':' || b.row_number
    where
        l.source = 'billing' and l.model_id = '__unallocated__'
        and l.charge_date >= $start and l.charge_date < $end
),

final as (
    select
        account, any_value(account_name) as account_name,
        string_agg(distinct unallocated_reason, ', ' order by unallocated_reason) as reasons,
        sum(effective_cost) as effective_cost
    from unallocated
    group by account
)

select * from final order by effective_cost desc, account
