-- Record each new billing file version (_billing_loads) routed under the recipe $recipe in the
-- period $period (ledger.billing_allocated): its rows staged, its rows in the candidate so far
-- (rows routed on their own), its rows kept routed for a later split, and when ($routed_at).

insert into ledger.billing_allocated
select
    $recipe,
    l.load_id,
    $period,
    (select count(*) from staging.billing as b where b.x_BillingPeriod = $period and b.load_id = l.load_id),
    (
        select count(*)
        from ledger.cost_ledger_candidate as c
        -- source_ref = load_id:row_number, and a load id holds no ':' (a prefix test: cheaper
        -- than splitting every source_ref of the period)
        where c.billing_period = $period and c.source = 'billing' and starts_with(c.source_ref, l.load_id || ':')
    ),
    (
        select count(*)
        from ledger.billing_deferred as d
        where d.recipe = $recipe and d.billing_period = $period and d.load_id = l.load_id
    ),
    $routed_at
from _billing_loads as l
