-- The milestones planned before the month ends and not delivered before it began.
with milestones as (
    select * from marts.milestones
    where planned_date < $end and coalesce(actual_date, $end) >= $start
),

final as (
    select
        model_id, milestone, started_date, planned_date, actual_date, cancelled_date, status, days_late,
        time_to_deploy_days, days_charged, delay_cost
    from milestones
)

select * from final order by model_id, planned_date, milestone
