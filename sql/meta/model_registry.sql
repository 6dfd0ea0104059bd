create table if not exists meta.model_registry (
    model_id       varchar not null,
    name           varchar not null,
    business_line  varchar not null,
    team           varchar not null,
    owner          varchar not null,
    valid_from     date,
    valid_to       date
);
comment on table meta.model_registry is 'One row per registered model and period of ownership ([[models]] and their dated moves, as the last publish read them): the business line, team and owner a model''s cost rolls up to on each day. Periods of a model never overlap.';
comment on column meta.model_registry.model_id is 'Registered model.';
comment on column meta.model_registry.name is 'Display name.';
comment on column meta.model_registry.business_line is 'Business line (e.g. search, recommendation); empty when not configured.';
comment on column meta.model_registry.team is 'Team; empty when not configured.';
comment on column meta.model_registry.owner is 'Owner; empty when not configured.';
comment on column meta.model_registry.valid_from is 'First day of this ownership (inclusive); null: since the model''s first cost.';
comment on column meta.model_registry.valid_to is 'Day the next ownership starts (exclusive); null: still current.';
