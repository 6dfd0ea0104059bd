create table if not exists meta.category_rules (
    rule_order          integer not null,
    charge_category     varchar,
    service_category    varchar,
    service_name        varchar,
    charge_description  varchar,
    publisher_differs   boolean not null,
    tag_key             varchar,
    tag_value           varchar,
    category            varchar not null,
    subcategory         varchar not null
);
comment on table meta.category_rules is 'One row per rule of the category rule table (pipeline/rules/category_rules.csv) the last ledger build ran with: a billing row takes the category and subcategory of the first rule whose every given condition holds, else operational / other.';
comment on column meta.category_rules.rule_order is 'Position in the rule table (1 = first).';
comment on column meta.category_rules.charge_category is 'Regular expression (RE2) matched in full against ChargeCategory; null: not tested.';
comment on column meta.category_rules.service_category is 'Regular expression (RE2) matched in full against ServiceCategory; null: not tested.';
comment on column meta.category_rules.service_name is 'Regular expression (RE2) matched in full against ServiceName; null: not tested.';
comment on column meta.category_rules.charge_description is 'Regular expression (RE2) matched in full against ChargeDescription; null: not tested.';
comment on column meta.category_rules.publisher_differs is 'True: only rows whose PublisherName and InvoiceIssuerName are both given and differ (marketplace charges).';
comment on column meta.category_rules.tag_key is 'Tag key (trimmed, lower-cased) the row must carry; null: not tested.';
comment on column meta.category_rules.tag_value is 'Regular expression (RE2) matched in full against that tag''s value (trimmed).';
comment on column meta.category_rules.category is 'Category given.';
comment on column meta.category_rules.subcategory is 'Subcategory given.';
