-- The optimisations logged in the month, by day.
select action_date, model_id, action
from staging.optimizations
where action_date >= $start and action_date < $end
order by action_date, model_id, action
