-- The lines of billing load $new (at $path) identical to lines of other parts of the same export,
-- as meta.quarantine rows naming the part and its row: _lines_in_common holds lines_in_common.sql's
-- answer.
insert into meta.quarantine
select
    $new,
    $path,
    d.row_number,
    '(every column)',
    null,
    'duplicate line: identical in every column to row ' || d.old_row_number || ' of ' || l.path
    || ', another part of the same export; loaded once'
from _lines_in_common as d
inner join meta.loads as l on l.load_id = d.old_load_id
order by d.old_load_id, d.row_number
