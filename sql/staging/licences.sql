create table if not exists staging.licences (
    load_id         varchar not null,
    row_number      bigint not null,
    licence_id      varchar not null,
    vendor          varchar not null,
    product         varchar not null,
    term_start      date not null,
    term_end        date not null,
    billing         varchar not null,
    amount          decimal(38, 18) not null,
    currency        varchar not null,
    seats           integer not null,
    seats_by_model  varchar
);
comment on table staging.licences is 'One row per software licence in the register: amortised per day over its term and split across models by the seats each holds; unassigned seats are __unallocated__.';
comment on column staging.licences.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.licences.row_number is 'Row number in that file.';
comment on column staging.licences.licence_id is 'Licence or contract id.';
comment on column staging.licences.vendor is 'Vendor.';
comment on column staging.licences.product is 'Product licensed.';
comment on column staging.licences.term_start is 'First day of the term.';
comment on column staging.licences.term_end is 'Last day of the term (inclusive).';
comment on column staging.licences.billing is 'term: amount covers the whole term, spread evenly over its days; monthly: amount is due each month, spread over that month''s days.';
comment on column staging.licences.amount is 'Amount, exact, in currency.';
comment on column staging.licences.currency is 'ISO 4217 currency.';
comment on column staging.licences.seats is 'Seats bought.';
comment on column staging.licences.seats_by_model is 'Seats assigned to models, as model=seats pairs separated by ";".';
