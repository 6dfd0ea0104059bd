create table if not exists staging.charges (
    load_id         varchar not null,
    row_number      bigint not null,
    invoice_id      varchar not null,
    vendor          varchar not null,
    category        varchar not null,
    subcategory     varchar not null,
    service_start   date not null,
    service_end     date not null,
    amount          decimal(38, 18) not null,
    currency        varchar not null,
    model_id        varchar,
    description     varchar
);
comment on table staging.charges is 'One row per other charge: licences, labelling and data vendors'' invoices, hardware maintenance.';
comment on column staging.charges.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.charges.row_number is 'Row number in that file.';
comment on column staging.charges.invoice_id is 'Vendor invoice number.';
comment on column staging.charges.vendor is 'Vendor name.';
comment on column staging.charges.category is 'One of the six categories.';
comment on column staging.charges.subcategory is 'Subcategory, e.g. labelling, licence.';
comment on column staging.charges.service_start is 'First day the charge covers.';
comment on column staging.charges.service_end is 'Last day the charge covers (inclusive); the amount is spread evenly over the days.';
comment on column staging.charges.amount is 'Amount, exact, in currency.';
comment on column staging.charges.currency is 'ISO 4217 currency.';
comment on column staging.charges.model_id is 'Model the charge is for; null = __unallocated__.';
comment on column staging.charges.description is 'Free text.';
