-- (month, person, model_id, w): percent allocations in basis points, else timesheet hours in
-- hundredths; the rest of a percent allocation goes to $unallocated.
with percent as (
    select month, person, model_id, cast(round(percent * 100) as bigint) as w from allocations
),

percent_rest as (
    select month, person, $unallocated as model_id, 10000 - sum(w) as w from percent group by month, person
),

hours as (
    select
        strftime(t.date, '%Y-%m') as month, t.person, coalesce(p.model_id, $unallocated) as model_id,
        cast(round(sum(t.hours) * 100) as bigint) as w
    from timesheets as t
    left join projects as p on t.project = p.project
    group by all
),

final as (
    select * from percent
    union all select * from percent_rest
    union all select * from hours
    where not exists (select 1 from allocations as a where a.month = hours.month and a.person = hours.person)
)

select month, person, model_id, sum(w)::bigint as w from final where w > 0 group by all
