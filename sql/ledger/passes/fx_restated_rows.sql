-- How many kept candidate rows of the period ($period) have a day's FX rate into the reporting
-- currency ($currency) other than the one they were converted at: fx_restated.sql converts them
-- again. It is run only when there are some: its exact arithmetic takes longer to plan than
-- this count takes to run.
select count(*) as restated
from ledger.cost_ledger_candidate as k
inner join staging.fx_rates as r
    on k.charge_date = r.rate_date and k.source_currency = r.currency
where k.billing_period = $period and k.source_currency <> $currency and k.fx_rate <> r.rate
