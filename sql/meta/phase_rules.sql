create table if not exists meta.phase_rules (
    rule_order  integer not null,
    field       varchar,
    tag_key     varchar,
    pattern     varchar not null,
    phase       varchar not null
);
comment on table meta.phase_rules is 'One row per [[phase_rules]] rule of the configuration the last ledger build ran with: the lifecycle phase of a billing row routed on its own (direct, commitment or unallocated) whose column or tag matches (the first rule that matches wins). GPU time takes its workload rule''s phase; other rows their source''s default (meta.phase_defaults).';
comment on column meta.phase_rules.rule_order is 'Position of the rule in the configuration (1 = first); the first matching rule wins.';
comment on column meta.phase_rules.field is 'Billing column tested: BillingAccountId, SubAccountId, SubAccountName, ResourceId, ResourceName or ServiceName; null when the rule tests a tag.';
comment on column meta.phase_rules.tag_key is 'Tag key tested (lower case, spaces trimmed); null when the rule tests a column.';
comment on column meta.phase_rules.pattern is 'Regular expression matched in full on the column or tag value (a missing column is the empty string).';
comment on column meta.phase_rules.phase is 'training, fine_tuning, inference, experimentation, data_preparation or shared.';
