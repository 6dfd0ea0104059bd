-- One row per row of billing load $new identical in every column (amounts too) to a row of billing
-- load $old, with the first such row of $old: the same line delivered in two parts of one export.
with new_rows as (
    select row_number, row(*columns(* exclude (load_id, row_number))) as line
    from staging.billing where load_id = $new
),

old_rows as (
    select row_number, row(*columns(* exclude (load_id, row_number))) as line
    from staging.billing where load_id = $old
),

final as (
    select n.row_number, min(o.row_number) as old_row_number
    from new_rows as n
    inner join old_rows as o on n.line is not distinct from o.line
    group by n.row_number
)

select * from final order by row_number
