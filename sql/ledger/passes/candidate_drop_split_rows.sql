-- Forget the period's ($period) candidate rows of billing rows about to be split again (the rows,
-- by source_ref, are written in by the code, pipeline.ledger.frame.fill).

delete from ledger.cost_ledger_candidate
where billing_period = $period and source = 'billing' and source_ref in (select source_ref from $split_rows)
