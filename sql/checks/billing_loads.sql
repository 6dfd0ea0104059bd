-- One row per file with staged billing rows of the period: how many (kept by a validation that
-- passes, in meta.validated_billing_loads: fewer at the next one means charges went).
select load_id, count(*) as staged_rows
from staging.billing
where x_BillingPeriod = $period
group by load_id
