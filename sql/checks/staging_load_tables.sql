-- The staging tables that keep load_id and row_number (each staged row traces to its load).
select table_name
from duckdb_columns()
where
    schema_name = 'staging'
    and table_name in (select table_name from duckdb_tables() where schema_name = 'staging')
group by table_name
having count(*) filter (column_name in ('load_id', 'row_number')) = 2
order by table_name
