-- The rate bands of the rates kept under one policy.
select b.*
from labor_rate_bands as b
semi join labor_rates as r on b.rate_period = r.rate_period and b.currency = r.currency and r.policy = $policy
