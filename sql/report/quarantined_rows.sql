-- How many rows of the month's input files (as input_files.sql picks them) were quarantined.
with month_loads as (
    select load_id from meta.loads as l
    where
        list_contains(periods, $month)
        or len(periods) = 0 and loaded_at >= $start and not exists (
            select 1 from meta.loads as later
            where later.source = l.source and later.path = l.path and later.loaded_at > l.loaded_at
        )
)

select count(*) from meta.quarantine
where load_id in (select load_id from month_loads)
