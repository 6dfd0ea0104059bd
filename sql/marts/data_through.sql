-- One row per calendar month of the ledger: the last day its metered data reaches (a billing
-- charge of a day or less, or a GPU sample, as ledger.telemetry_days sums them up). Spread
-- charges (a monthly fee, labor, licences) reach the month's end before the month is over;
-- metered usage does not. The forecast runs from it and marts.anomalies stops at it.
create or replace view marts.data_through as
with ledger_months as (
    select
        strftime(charge_date, '%Y-%m') as month,
        max(charge_date) as last_ledger_day
    from ledger.cost_ledger
    group by month
),

metered_days as (
    select ChargePeriodStart::date as day
    from staging.billing
    where ChargePeriodEnd <= ChargePeriodStart + interval 1 day
    union all
    -- the days of the GPU samples, from their summary (brought up to date by each build,
    -- validation and publish): no sample is read
    select day
    from ledger.telemetry_days
),

metered as (
    select strftime(day, '%Y-%m') as month, max(day) as last_metered_day
    from metered_days
    group by month
),

through as (
    select
        l.month,
        cast(l.month || '-01' as date) as month_start,
        last_day(cast(l.month || '-01' as date)) as month_end,
        -- least() skips a null: a month without metered data keeps its last ledger day
        case
            when m.last_metered_day is null then l.last_ledger_day
            else least(m.last_metered_day, last_day(cast(l.month || '-01' as date)))
        end as data_through
    from ledger_months as l
    left join metered as m
        on m.month = l.month
),

final as (
    select *, data_through >= month_end as complete
    from through
)

select * from final;
comment on view marts.data_through is 'One row per calendar month of the ledger: the last day metered data reaches (billing charges of a day or less, GPU samples as ledger.telemetry_days sums them up), else the month''s last ledger day.';
comment on column marts.data_through.month is 'Calendar month YYYY-MM of charge_date.';
comment on column marts.data_through.month_start is 'First day of the month.';
comment on column marts.data_through.month_end is 'Last day of the month.';
comment on column marts.data_through.data_through is 'Last day of the month with metered data (a billing charge of a day or less, or a GPU sample); the last ledger day when the month has none.';
comment on column marts.data_through.complete is 'True when data_through is the month''s last day.';
