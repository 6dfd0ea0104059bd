-- Forget the period's ($period) candidate rows that do not come from a bill and that the build
-- does not write again exactly as they are (other_rows_kept.sql).

delete from ledger.cost_ledger_candidate as c
where
    c.billing_period = $period
    and c.source <> 'billing'
    and c.lineage_id in (select k.lineage_id from _other_rows_kept as k where not k.kept)
