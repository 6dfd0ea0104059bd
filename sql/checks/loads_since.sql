-- Each file loaded since a time, with its rows in, loaded and quarantined and the main reasons.
select path, source, status, rows_in, rows_loaded, rows_quarantined, top_reasons, message
from meta.quarantine_summary
where loaded_at >= $since
order by path, load_id
