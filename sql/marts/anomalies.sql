-- One row per day, model (or bucket) and watched category whose effective cost fell outside its
-- expected band. The band is robust and weekly: the median of the same weekday over the last
-- `weeks` weeks (a Monday against Mondays, so labor-free weekends are no anomaly), +- `band_mads`
-- x 1.4826 x their median absolute deviation (1.4826 x MAD estimates a standard deviation; a
-- median and a MAD are not pulled by the very spikes being looked for, as a mean and a standard
-- deviation are), at least +- min_band_share of the median and +- min_band_amount (a steady cost
-- has a MAD of 0). A day without cost counts as 0. Days are scored from `weeks` weeks after the
-- ledger's first day (a full history) up to the month's data-through day (as marts.data_through:
-- never days whose metered data has not arrived). Settings: meta.anomaly_settings ([anomalies] in the config).
create or replace view marts.anomalies as
with settings as (
    -- the configuration's defaults until a publish writes meta.anomaly_settings
    select
        coalesce(any_value(weeks), 4) as weeks,
        coalesce(any_value(band_mads), 3)::decimal(9, 4) as band_mads,
        coalesce(any_value(min_band_share), 0.25)::decimal(9, 4) as min_band_share,
        coalesce(any_value(min_band_amount), 1)::decimal(38, 18) as min_band_amount,
        coalesce(any_value(categories), ['hardware', 'software', 'data', 'operational']) as categories
    from meta.anomaly_settings
),

daily as (
    select l.charge_date, l.model_id, l.category, l.currency, sum(l.effective_cost) as cost
    from ledger.cost_ledger as l
    where list_contains((select categories from settings), l.category)
    group by l.charge_date, l.model_id, l.category, l.currency
),

-- the last day of each month metered data reaches, as marts.data_through states it
ledger_months as (
    select strftime(charge_date, '%Y-%m') as month, max(charge_date) as last_ledger_day
    from ledger.cost_ledger
    group by month
),

metered as (
    select strftime(day, '%Y-%m') as month, max(day) as last_metered_day
    from (
        select ChargePeriodStart::date as day from staging.billing
        where ChargePeriodEnd <= ChargePeriodStart + interval 1 day
        union all
        select day from ledger.telemetry_days  -- the GPU samples' days (see marts.data_through)
    )
    group by month
),

through as (
    select
        l.month,
        case
            when m.last_metered_day is null then l.last_ledger_day
            else least(m.last_metered_day, last_day(cast(l.month || '-01' as date)))
        end as data_through
    from ledger_months as l
    left join metered as m
        on m.month = l.month
),

scored_days as (
    select cast(d.day as date) as day
    from (select min(charge_date) as first_day from ledger.cost_ledger) as f,
        settings as s,
        generate_series(f.first_day + 7 * s.weeks, (select max(data_through) from through), interval 1 day) as d (day)
    inner join through as t
        on t.month = strftime(cast(d.day as date), '%Y-%m') and cast(d.day as date) <= t.data_through
),

series as (
    select distinct model_id, category, currency from daily
),

grid as (
    select d.day, s.model_id, s.category, s.currency
    from scored_days as d
    cross join series as s
),

observed as (
    select g.*, coalesce(d.cost, 0) as actual
    from grid as g
    left join daily as d
        on d.charge_date = g.day and d.model_id = g.model_id and d.category = g.category and d.currency = g.currency
),

history as (
    select g.day, g.model_id, g.category, g.currency, coalesce(d.cost, 0) as cost
    from grid as g
    cross join range(1, (select weeks from settings) + 1) as w (week)
    left join daily as d
        on d.charge_date = g.day - cast(7 * w.week as integer)
        and d.model_id = g.model_id and d.category = g.category and d.currency = g.currency
),

bands as (
    select day, model_id, category, currency, median(cost) as expected, mad(cost) as mad
    from history
    group by day, model_id, category, currency
),

widths as (
    select
        o.day,
        o.model_id,
        o.category,
        o.currency,
        o.actual,
        b.expected,
        b.mad,
        greatest(
            cast(s.band_mads * 1.4826 * b.mad as decimal(38, 18)),
            cast(s.min_band_share * abs(b.expected) as decimal(38, 18)),
            s.min_band_amount
        ) as half_width
    from observed as o
    inner join bands as b
        on b.day = o.day and b.model_id = o.model_id and b.category = o.category and b.currency = o.currency
    cross join settings as s
),

final as (
    select
        day as charge_date,
        strftime(day, '%Y-%m') as month,
        model_id,
        category,
        currency,
        actual,
        expected,
        mad,
        expected - half_width as lower_bound,
        expected + half_width as upper_bound,
        case when actual > expected + half_width then 'above' else 'below' end as direction,
        actual - expected as deviation,
        case
            when actual > expected + half_width then actual - (expected + half_width)
            else actual - (expected - half_width)
        end as excess,
        (actual - expected) / nullif(1.4826 * mad, 0) as robust_z
    from widths
    where actual > expected + half_width or actual < expected - half_width
)

select * from final;
comment on view marts.anomalies is 'One row per day, model and watched category whose effective cost fell outside its band: median of the same weekday over the last N weeks +- k x 1.4826 x MAD (at least a share of the median and an amount); robust to weekly seasonality and to the spikes themselves. Settings in meta.anomaly_settings.';
comment on column marts.anomalies.charge_date is 'Day (UTC).';
comment on column marts.anomalies.month is 'Calendar month YYYY-MM of the day.';
comment on column marts.anomalies.model_id is 'Model or bucket.';
comment on column marts.anomalies.category is 'Category (one of the watched ones).';
comment on column marts.anomalies.currency is 'Reporting currency.';
comment on column marts.anomalies.actual is 'Effective cost that day, exact (0 when there was none).';
comment on column marts.anomalies.expected is 'Median cost of the same weekday over the last N weeks (a day without cost counts as 0).';
comment on column marts.anomalies.mad is 'Median absolute deviation of those N costs from their median.';
comment on column marts.anomalies.lower_bound is 'expected - half-width; half-width = max(k x 1.4826 x mad, min_band_share x |expected|, min_band_amount).';
comment on column marts.anomalies.upper_bound is 'expected + half-width.';
comment on column marts.anomalies.direction is 'above (a spike) or below (a drop).';
comment on column marts.anomalies.deviation is 'actual - expected.';
comment on column marts.anomalies.excess is 'How far outside the band: actual - upper_bound when above (positive), actual - lower_bound when below (negative).';
comment on column marts.anomalies.robust_z is 'deviation / (1.4826 x mad): robust z-score (DOUBLE, for reading); null when mad is 0.';
