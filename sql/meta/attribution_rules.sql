create table if not exists meta.attribution_rules (
    rule_order  integer not null,
    field       varchar not null,
    pattern     varchar not null,
    model_id    varchar not null
);
comment on table meta.attribution_rules is 'One row per [[attribution.rules]] entry of the configuration the last ledger build ran with: a billing row whose field matches the pattern goes to the model (the first rule that matches wins).';
comment on column meta.attribution_rules.rule_order is 'Position in the configuration (1 = first).';
comment on column meta.attribution_rules.field is 'Billing column tested: BillingAccountId, SubAccountId, SubAccountName, ResourceId, ResourceName or ServiceName.';
comment on column meta.attribution_rules.pattern is 'Regular expression (RE2), matched in full against the column (a missing value is the empty string).';
comment on column meta.attribution_rules.model_id is 'The registered model.';
