create table if not exists meta.tag_keys (
    key_order  integer not null,
    tag_key    varchar not null
);
comment on table meta.tag_keys is 'One row per attribution.tag_keys entry of the configuration the last ledger build ran with: the billing tag keys that name a model, tried in this order.';
comment on column meta.tag_keys.key_order is 'Position in the configuration (1 = tried first).';
comment on column meta.tag_keys.tag_key is 'Tag key, trimmed and lower-cased (tag keys are compared that way).';
