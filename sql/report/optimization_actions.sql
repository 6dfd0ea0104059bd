select distinct action_date, model_id, action, coalesce(description, '') as description
from staging.optimizations
order by action_date, model_id, action, description
