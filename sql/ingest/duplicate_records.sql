-- Rows identical in every column to an earlier row of the file: each with the first such row.
select
    row_number,
    first
from (
    select
        row_number,
        min(row_number) over (partition by r) as first
    from records
)
where row_number <> first
order by row_number
