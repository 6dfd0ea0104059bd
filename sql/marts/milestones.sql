create or replace view marts.milestones as
with milestones as (
    select * from staging.milestones
),

delay as (
    select
        split_part(source_ref, ':', 1) as load_id, split_part(source_ref, ':', 2)::bigint as row_number,
        count(*) as days_charged, max(charge_date) as last_day_charged, sum(economic_cost) as delay_cost
    from ledger.cost_ledger
    where source = 'milestones'
    group by all
),

final as (
    select
        milestones.model_id,
        milestones.milestone,
        milestones.started_date,
        milestones.planned_date,
        milestones.actual_date,
        milestones.cancelled_date,
        case
            when milestones.actual_date is not null then 'delivered'
            when milestones.cancelled_date is not null then 'cancelled' else 'open'
        end as status,
        case
            when milestones.actual_date is not null then greatest(milestones.actual_date - milestones.planned_date, 0)
            else greatest(coalesce(delay.last_day_charged - milestones.planned_date, 0), 0)
        end as days_late,
        milestones.actual_date - milestones.started_date as time_to_deploy_days,
        coalesce(delay.days_charged, 0) as days_charged,
        coalesce(delay.delay_cost, 0) as delay_cost
    from milestones
    left join delay
        on delay.load_id = milestones.load_id and delay.row_number = milestones.row_number
)

select * from final;
comment on view marts.milestones is 'One row per milestone: planned and actual delivery, days late, time to deploy, and the delay cost charged to the ledger so far.';
comment on column marts.milestones.model_id is 'Model.';
comment on column marts.milestones.milestone is 'Milestone name.';
comment on column marts.milestones.started_date is 'Day work started, when known.';
comment on column marts.milestones.planned_date is 'Planned delivery day.';
comment on column marts.milestones.actual_date is 'Actual delivery day; null while open.';
comment on column marts.milestones.status is 'open, delivered or cancelled (no longer planned: no delay accrues from cancelled_date on).';
comment on column marts.milestones.cancelled_date is 'Day the work was cancelled, when it was.';
comment on column marts.milestones.days_late is 'Days after the planned day until delivery; while open, until the last day the published ledger charged (the run date).';
comment on column marts.milestones.time_to_deploy_days is 'actual_date - started_date, in days.';
comment on column marts.milestones.days_charged is 'Days of delay in the published ledger.';
comment on column marts.milestones.delay_cost is 'Delay cost in the published ledger: opportunity cost, the economic_cost of its rows (reporting currency, exact).';
