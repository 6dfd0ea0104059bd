create table if not exists staging.usage (
    load_id        varchar not null,
    row_number     bigint not null,
    usage_date     date not null,
    model_id       varchar not null,
    requests       bigint not null,
    input_tokens   bigint,
    output_tokens  bigint
);
comment on table staging.usage is 'One row per model per day: business volume, the denominator of unit costs.';
comment on column staging.usage.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.usage.row_number is 'Row number in that file.';
comment on column staging.usage.usage_date is 'Day (UTC).';
comment on column staging.usage.model_id is 'Registered model.';
comment on column staging.usage.requests is 'Requests served.';
comment on column staging.usage.input_tokens is 'Input tokens processed (LLMs).';
comment on column staging.usage.output_tokens is 'Output tokens generated (LLMs).';
