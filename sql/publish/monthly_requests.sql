-- Requests per month and model for days in [$start, $end) (the volume of a price, volume and mix split).
select strftime(usage_date, '%Y-%m') as month, model_id, sum(requests) as requests
from staging.usage
where usage_date >= $start and usage_date < $end
group by month, model_id
order by month, model_id
