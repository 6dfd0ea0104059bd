-- Forget the period's ($period) candidate rows split from billing file versions ($loads) that are
-- superseded or routed again (lost rows since they were routed). A version never routed has no
-- rows here: it is not asked for (pipeline.ledger.candidate.route_new_files).

delete from ledger.cost_ledger_candidate
where
    billing_period = $period
    and source = 'billing'
    and split_part(source_ref, ':', 1) in (select unnest($loads::varchar[]))
