-- The data-quality checks of the run the month was published from (or, when nothing is
-- published, of its latest checked run), failures first.
with published as (  -- the build of the month's last successful publish
    select arg_max(run_id, finished_at) as run_id
    from meta.runs
    where command = 'publish' and status = 'success' and list_contains(periods, $month)
    having count(*) > 0
),

latest as (
    select run_id from meta.check_results
    where billing_period = $month
    order by checked_at desc, run_id
    limit 1
),

checked_run as (
    select run_id from published
    union all
    select run_id from latest where not exists (select 1 from published)
)

select suite, expectation, "column", severity, success, observed, run_id
from meta.check_results
where billing_period = $month and run_id in (select run_id from checked_run)
order by success, severity, suite, expectation, "column"
