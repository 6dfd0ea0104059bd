-- What the period's checks depend on besides the days' rows and the checks' own code (see
-- meta.validated_days.basis): the recipe the candidate was built under, which covers the config
-- (the config tables the marts read: model registry, GPU pools, workload rules), the category
-- rules and the allocation code.
select coalesce(any_value(recipe), '-') as basis
from ledger.candidate_builds
where billing_period = $period
