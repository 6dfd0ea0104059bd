-- Anomalies to alert on: above their band by at least $min_excess, on a day in [$first, $last],
-- and not alerted before (meta.anomaly_alerts).
select
    a.charge_date,
    a.model_id,
    a.category,
    a.currency,
    a.actual,
    a.expected,
    a.upper_bound,
    a.excess
from marts.anomalies as a
where
    a.direction = 'above'
    and a.excess >= $min_excess
    and a.charge_date between $first and $last
    and not exists (
        select 1 from meta.anomaly_alerts as s
        where s.charge_date = a.charge_date and s.model_id = a.model_id and s.category = a.category
    )
order by a.excess desc, a.charge_date, a.model_id, a.category
