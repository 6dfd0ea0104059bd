-- Input files of the billing period replaced by a later delivery: old and new checksum and rows.
with old as (
    select * from meta.loads
    where status = 'superseded' and list_contains(periods, $month)
),

final as (
    select
        old.source,
        old.path,
        left(old.checksum, 12) as old_checksum,
        left(new.checksum, 12) as new_checksum,
        old.rows_loaded as old_rows,
        new.rows_loaded as new_rows,
        new.loaded_at as restated_at
    from old
    left join meta.loads as new on new.load_id = old.superseded_by
)

select * from final order by restated_at, source, path
