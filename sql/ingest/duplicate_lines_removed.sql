-- Remove from billing load $new the lines _lines_in_common holds (duplicates of another part's).
delete from staging.billing
where load_id = $new and row_number in (select row_number from _lines_in_common)
