-- raw.source_rows over the raw layer's files: one raw_rows_shape.sql query per record shape,
-- joined by union all (pipeline.warehouse.define_raw_view fills them in).
create or replace view raw.source_rows as
$branches
