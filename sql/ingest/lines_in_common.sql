-- One row per row of billing load $new identical in every column (amounts too, nulls equal) to a
-- row of one of the billing loads $siblings (other parts of the same export), with the first
-- sibling in load_id order holding such a row, and its first such row: the same line delivered in
-- two parts of one export. ChargePeriodStart, part of the line, is also compared on its own so
-- that the scan of the siblings skips the rows whose charge periods no line of $new has.
with new_lines as (
    select row_number, ChargePeriodStart, row(*columns(* exclude (load_id, row_number))) as line
    from staging.billing
    where load_id = $new
),

sibling_lines as (
    select load_id, row_number, ChargePeriodStart, row(*columns(* exclude (load_id, row_number))) as line
    from staging.billing
    where list_contains($siblings, load_id)
),

first_copies as (
    select n.row_number, min((s.load_id, s.row_number)) as first_copy
    from new_lines as n
    inner join sibling_lines as s on n.ChargePeriodStart = s.ChargePeriodStart and n.line is not distinct from s.line
    group by n.row_number
),

final as (
    select row_number, first_copy[1] as old_load_id, first_copy[2] as old_row_number from first_copies
)

select * from final order by old_load_id, row_number
