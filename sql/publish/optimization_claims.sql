-- Each optimisation action's claimed saving (the largest claim when one is reported twice).
select
    action_date, model_id, action, coalesce(description, '') as description,
    max(claimed_saving_percent) as claimed
from staging.optimizations
group by action_date, model_id, action, coalesce(description, '')
