-- Requests per month and model, for the months in $months (the volume of a price, volume and mix split).
select strftime(usage_date, '%Y-%m') as month, model_id, sum(requests) as requests
from staging.usage
where strftime(usage_date, '%Y-%m') in (select unnest($months))
group by month, model_id
order by month, model_id
