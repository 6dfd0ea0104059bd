-- The lines of billing load $new (at $path) identical to lines of $old_path, another part of the
-- same export, as meta.quarantine rows: _lines_in_common holds lines_in_common.sql's answer.
insert into meta.quarantine
select
    $new,
    $path,
    row_number,
    '(every column)',
    null,
    'duplicate line: identical in every column to row ' || old_row_number || ' of ' || $old_path
    || ', another part of the same export; loaded once'
from _lines_in_common
order by row_number
