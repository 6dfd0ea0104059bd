-- The period's days whose candidate rows differ from its published rows (null: rows without a
-- charge date): publish replaces only these. A day is compared by its row count and two sums of
-- row hashes over every column but run_id, which every build rewrites (a sum, not an xor: two
-- equal rows do not cancel out).
with candidate as (
    select c.charge_date, count(*) as n, sum(hash(c)::hugeint) as h, sum(hash(c, 'publish')::hugeint) as h2
    from (select * exclude (run_id) from ledger.cost_ledger_candidate where billing_period = $period) as c
    group by c.charge_date
),

published as (
    select p.charge_date, count(*) as n, sum(hash(p)::hugeint) as h, sum(hash(p, 'publish')::hugeint) as h2
    from (select * exclude (run_id) from ledger.cost_ledger where billing_period = $period) as p
    group by p.charge_date
),

final as (
    select coalesce(c.charge_date, p.charge_date) as charge_date
    from candidate as c
    full outer join published as p
        on c.charge_date is not distinct from p.charge_date
    where c.n is distinct from p.n or c.h is distinct from p.h or c.h2 is distinct from p.h2
)

select * from final
