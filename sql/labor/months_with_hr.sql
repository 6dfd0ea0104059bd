-- The months the restricted HR database has allocations, timesheets or training for.
select month from allocations
union
select strftime(date, '%Y-%m') from timesheets
union
select strftime(date, '%Y-%m') from training
