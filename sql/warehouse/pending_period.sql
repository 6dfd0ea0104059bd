-- Record a period whose inputs changed, once.
insert into meta.pending_periods
select $period, $marked_at
where not exists (select 1 from meta.pending_periods where period = $period)
