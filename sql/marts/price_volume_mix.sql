-- Filled by pipeline.marts.drivers when a period is published (exact decimal division).
create table if not exists marts.price_volume_mix (
    month               varchar not null,
    previous_month      varchar not null,
    model_id            varchar not null,
    category            varchar not null,
    currency            varchar not null,
    previous_cost       decimal(38, 18) not null,
    cost                decimal(38, 18) not null,
    change              decimal(38, 18) not null,
    volume_effect       decimal(38, 18) not null,
    mix_effect          decimal(38, 18) not null,
    price_effect        decimal(38, 18) not null,
    previous_requests   bigint,
    requests            bigint
);
comment on table marts.price_volume_mix is 'One row per month, model and category present in it or the month before: why the cost changed month over month, split exactly into change = volume_effect + mix_effect + price_effect. Items are the category''s subcategories with their quantity unit (GPU-hours, kWh, person-days, ...); V = requests, q = an item''s quantity, p = its cost / q. volume = (V - V_prev) x cost_prev / V_prev; price = sum of q x (p - p_prev); mix = the rest = V x sum of (q / V - q_prev / V_prev) x p_prev: more or other resources per request. An item without a quantity counts requests as its quantity; a new item has no price change; a model without requests has V = 1 (no volume effect).';
comment on column marts.price_volume_mix.month is 'Calendar month YYYY-MM.';
comment on column marts.price_volume_mix.previous_month is 'The month before.';
comment on column marts.price_volume_mix.model_id is 'Model or bucket.';
comment on column marts.price_volume_mix.category is 'One of the six categories.';
comment on column marts.price_volume_mix.currency is 'Reporting currency.';
comment on column marts.price_volume_mix.previous_cost is 'Effective cost in the previous month, exact.';
comment on column marts.price_volume_mix.cost is 'Effective cost in the month, exact.';
comment on column marts.price_volume_mix.change is 'cost - previous_cost.';
comment on column marts.price_volume_mix.volume_effect is 'Part of the change from business volume: (requests - previous_requests) x previous cost per request (exact to 18 decimals).';
comment on column marts.price_volume_mix.mix_effect is 'Part from the resources used per request (how much of each subcategory''s unit a request took), at last month''s prices: change - volume_effect - price_effect, so the three add up exactly.';
comment on column marts.price_volume_mix.price_effect is 'Part from the price per unit of each subcategory (GPU-hour, kWh, person-day, FX), at this month''s quantities.';
comment on column marts.price_volume_mix.previous_requests is 'Requests in the previous month; null when the model has none.';
comment on column marts.price_volume_mix.requests is 'Requests in the month; null when the model has none.';
