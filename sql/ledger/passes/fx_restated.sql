-- Kept candidate rows of the period ($period) whose day's FX rate into the reporting currency
-- ($currency) was restated since they were converted: converted again at the new rate (billed and
-- effective cost, and economic cost, exactly, rounded half to even once per row, as ledger_rows.sql).
-- The row's stored hash is cleared: validation hashes a row without one as it reads it.
update ledger.cost_ledger_candidate as c
set
    row_hash = null,
    fx_rate = n.rate,
    billed_cost
    = money_of(convert_round(n.billed_hi, n.r, n.billed_n, floor_div_bounded(n.billed_n, 10000000000::hugeint))),
    effective_cost = case
        when c.cost_basis = 'opportunity' then 0::decimal(38, 18)
        else
            money_of(
                convert_round(
                    n.effective_hi, n.r, n.effective_n, floor_div_bounded(n.effective_n, 10000000000::hugeint)
                )
            )
    end,
    economic_cost
    = money_of(
        convert_round(n.effective_hi, n.r, n.effective_n, floor_div_bounded(n.effective_n, 10000000000::hugeint))
    )
from (
    select *, convert_low(billed_q, billed_hi, r) as billed_n, convert_low(effective_q, effective_hi, r) as effective_n
    from (
        select *, convert_hi(billed_q) as billed_hi, convert_hi(effective_q) as effective_hi
        from (
            select
                k.lineage_id,
                r.rate,
                rate_quanta(r.rate) as r,
                money_quanta(k.source_amount) as billed_q,
                money_quanta(k.source_effective_amount) as effective_q
            from ledger.cost_ledger_candidate as k
            inner join staging.fx_rates as r
                on k.charge_date = r.rate_date and k.source_currency = r.currency
            where k.billing_period = $period and k.source_currency <> $currency and k.fx_rate <> r.rate
        ) as quanta
    ) as highs
) as n
where c.billing_period = $period and c.lineage_id = n.lineage_id
