-- How many staged billing rows the new file versions (_billing_loads) bring.

select count(*) as billing_rows
from staging.billing as b
inner join _billing_loads as l on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
