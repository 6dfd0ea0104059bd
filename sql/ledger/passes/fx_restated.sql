-- Kept candidate rows of the period ($period) whose day's FX rate into the reporting currency
-- ($currency) was restated since they were converted: converted again at the new rate (billed and
-- effective cost, exactly, rounded half to even once per row, as ledger_rows.sql).
update ledger.cost_ledger_candidate as c
set
    fx_rate = n.rate,
    billed_cost = money_of(even_round(n.billed_n, 10000000000::hugeint, n.billed_floor)),
    effective_cost = money_of(even_round(n.effective_n, 10000000000::hugeint, n.effective_floor))
from (
    select *, floor_div_bounded(billed_n, 10000000000::hugeint) as billed_floor, floor_div_bounded(effective_n, 10000000000::hugeint) as effective_floor
    from (
        select
            k.lineage_id,
            r.rate,
            money_quanta(k.source_amount) * rate_quanta(r.rate) as billed_n,
            money_quanta(k.source_effective_amount) * rate_quanta(r.rate) as effective_n
        from ledger.cost_ledger_candidate as k
        inner join staging.fx_rates as r
            on k.charge_date = r.rate_date and k.source_currency = r.currency
        where k.billing_period = $period and k.source_currency <> $currency and k.fx_rate <> r.rate
    ) as products
) as n
where c.billing_period = $period and c.lineage_id = n.lineage_id
