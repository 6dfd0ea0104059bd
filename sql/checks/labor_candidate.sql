-- One row per pay currency of the month (= period), on either side: the candidate's labor rows
-- (allocated at standard rates), summed in the shared warehouse as candidate_totals, against the
-- restricted HR database's labor_variance, compared there: allocated + variance = HR cost,
-- exactly. Only the verdict leaves the restricted database: neither the HR total nor a difference
-- (which could be one person's pay) reaches meta.check_results.
select source_currency as currency, sum(source_amount) as cost
from ledger.cost_ledger_candidate
where billing_period = $period and source = 'labor'
group by source_currency
