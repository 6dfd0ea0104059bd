-- The first row about to be split (the rows and their weight totals, per source_ref, are written
-- in by the code, pipeline.ledger.frame.fill) whose amount x its weight total, or whose total x
-- 1e18 (for the share), could leave 128 bits ($limit: the largest HUGEINT): its source_ref,
-- largest amount and total. None: the split is exact.

with amounts as (
    select
        p.source_ref,
        greatest(abs(p.source_amount), abs(p.source_effective_amount), abs(coalesce(p.quantity, 0))) as amount,
        w.total
    from $split_rows as p
    inner join ($split_totals) as w on p.source_ref = w.source_ref
),

final as (
    select source_ref, amount, total
    from amounts
    where
        total > $limit::hugeint // 1000000000000000000
        or money_quanta(amount) > $limit::hugeint // greatest(total, 1)::hugeint
    limit 1
)

select * from final
