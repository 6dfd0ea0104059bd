-- Forget the period's ($period) candidate rows of the shared-pool rows' days about to be split
-- again (_shared_pieces, shared_pool_days.sql: by source_ref and charge day).

delete from ledger.cost_ledger_candidate as c
where
    c.billing_period = $period
    and c.source = 'billing'
    and exists (
        select 1 from _shared_pieces as p
        where p.source_ref = c.source_ref and p.charge_date = c.charge_date
    )
