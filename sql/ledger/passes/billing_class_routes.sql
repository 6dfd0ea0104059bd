-- One row per routing class (_billing_classes, billing_classes.sql) with what it decides
-- (pipeline/ledger/billing.py gives the order of the routes). Each rule's regular expression
-- (RE2, matched in full; a missing value is the empty string) runs once per distinct value of the
-- columns it tests, not once per row. _tag_values: billing_tag_values.sql.

with classes as (
    select * from _billing_classes
),

-- the model a tag set names: the first tag key (meta.tag_keys) with a non-empty value
tag_keyed as (
    select v.tags, v.tag_value as named, row_number() over (partition by v.tags order by k.key_order) as key_rank
    from _tag_values as v
    inner join meta.tag_keys as k on v.tag_key = k.tag_key
    where v.tag_value <> ''
),

tag_models as (
    select
        t.tags,
        case when m.model_id is not null then t.named end as tag_model,
        case when m.model_id is null then t.named end as tag_unknown
    from tag_keyed as t
    left join meta.models as m on t.named = m.model_id
    where t.key_rank = 1
),

-- category: the first rule (meta.category_rules) whose every given condition holds
category_inputs as (
    select distinct ChargeCategory, ServiceCategory, ServiceName, ChargeDescription, publisher_differs, tags
    from classes
),

category_hits as (
    select
        c.*,
        r.category,
        r.subcategory,
        row_number() over (
            partition by
                c.ChargeCategory, c.ServiceCategory, c.ServiceName, c.ChargeDescription, c.publisher_differs, c.tags
            order by r.rule_order
        ) as rule_rank
    from category_inputs as c
    inner join meta.category_rules as r
        on (r.charge_category is null or regexp_full_match(coalesce(c.ChargeCategory, ''), r.charge_category))
        and (r.service_category is null or regexp_full_match(coalesce(c.ServiceCategory, ''), r.service_category))
        and (r.service_name is null or regexp_full_match(coalesce(c.ServiceName, ''), r.service_name))
        and (r.charge_description is null or regexp_full_match(coalesce(c.ChargeDescription, ''), r.charge_description))
        and (not r.publisher_differs or c.publisher_differs)
    left join _tag_values as v
        on r.tag_key is not null and c.tags = v.tags and r.tag_key = v.tag_key
    where r.tag_key is null or (v.tag_value is not null and regexp_full_match(v.tag_value, r.tag_value))
),

categories as (
    select * from category_hits where rule_rank = 1
),

-- GPU pool: the first pool (meta.gpu_pools) whose node pattern matches ResourceName, or whose
-- resource id pattern matches ResourceId; the node's telemetry host is its ResourceName when that
-- matches the node pattern, else the last `/` part of its ResourceId
pool_inputs as (
    select distinct ResourceName, ResourceId from classes
),

pool_hits as (
    select
        c.ResourceName,
        c.ResourceId,
        p.name as pool,
        p.gpus_per_node as gpus,
        case
            when regexp_full_match(coalesce(c.ResourceName, ''), p.node_pattern) then c.ResourceName
            else list_last(string_split(c.ResourceId, '/'))
        end as hostname,
        row_number() over (partition by c.ResourceName, c.ResourceId order by p.pool_order) as rule_rank
    from pool_inputs as c
    inner join meta.gpu_pools as p
        on regexp_full_match(coalesce(c.ResourceName, ''), p.node_pattern)
        or (p.resource_id_pattern is not null and regexp_full_match(coalesce(c.ResourceId, ''), p.resource_id_pattern))
),

pools as (
    select * from pool_hits where rule_rank = 1
),

-- attribution rule: the first rule (meta.attribution_rules) whose column matches
rule_inputs as (
    select distinct BillingAccountId, SubAccountId, SubAccountName, ResourceId, ResourceName, ServiceName from classes
),

rule_hits as (
    select
        c.*,
        r.model_id as rule_model,
        row_number() over (
            partition by
                c.BillingAccountId, c.SubAccountId, c.SubAccountName, c.ResourceId, c.ResourceName, c.ServiceName
            order by r.rule_order
        ) as rule_rank
    from rule_inputs as c
    inner join meta.attribution_rules as r
        on regexp_full_match(
            coalesce(case r.field
                when 'BillingAccountId' then c.BillingAccountId
                when 'SubAccountId' then c.SubAccountId
                when 'SubAccountName' then c.SubAccountName
                when 'ResourceId' then c.ResourceId
                when 'ResourceName' then c.ResourceName
                when 'ServiceName' then c.ServiceName
            end, ''),
            r.pattern
        )
),

rule_models as (
    select * from rule_hits where rule_rank = 1
),

-- shared pool: the first pool (meta.shared_pools) whose every given pattern matches
shared_inputs as (
    select distinct ChargeCategory, ServiceName, ServiceCategory from classes
),

shared_hits as (
    select
        c.*,
        s.name as shared_pool,
        row_number()
            over (partition by c.ChargeCategory, c.ServiceName, c.ServiceCategory order by s.pool_order)
            as rule_rank
    from shared_inputs as c
    inner join meta.shared_pools as s
        on (s.charge_category is null or regexp_full_match(coalesce(c.ChargeCategory, ''), s.charge_category))
        and (s.service_name is null or regexp_full_match(coalesce(c.ServiceName, ''), s.service_name))
        and (s.service_category is null or regexp_full_match(coalesce(c.ServiceCategory, ''), s.service_category))
),

shared_pools as (
    select * from shared_hits where rule_rank = 1
),

-- phase rule: the first rule (meta.phase_rules) whose column, or tag value, matches
phase_inputs as (
    select distinct BillingAccountId, SubAccountId, SubAccountName, ResourceId, ResourceName, ServiceName, tags
    from classes
),

phase_hits as (
    select
        c.*,
        r.phase as rule_phase,
        row_number() over (
            partition by
                c.BillingAccountId,
                c.SubAccountId,
                c.SubAccountName,
                c.ResourceId,
                c.ResourceName,
                c.ServiceName,
                c.tags
            order by r.rule_order
        ) as rule_rank
    from phase_inputs as c
    cross join meta.phase_rules as r
    left join _tag_values as v
        on r.tag_key is not null and c.tags = v.tags and r.tag_key = v.tag_key
    where case
        when r.tag_key is not null then v.tag_value is not null and regexp_full_match(v.tag_value, r.pattern)
        else regexp_full_match(
            coalesce(case r.field
                when 'BillingAccountId' then c.BillingAccountId
                when 'SubAccountId' then c.SubAccountId
                when 'SubAccountName' then c.SubAccountName
                when 'ResourceId' then c.ResourceId
                when 'ResourceName' then c.ResourceName
                when 'ServiceName' then c.ServiceName
            end, ''),
            r.pattern
        )
    end
),

phase_rules as (
    select * from phase_hits where rule_rank = 1
),

final as (
    select
        c.*,
        ph.rule_phase,
        coalesce(k.category, 'operational') as category,
        coalesce(k.subcategory, 'other') as subcategory,
        t.tag_model,
        t.tag_unknown,
        r.rule_model,
        p.pool,
        p.gpus,
        p.hostname,
        s.shared_pool,
        case
            when c.ChargeCategory = 'Purchase' and c.commitment then 'commitment'
            when p.pool is not null then 'gpu_pool'
            when t.tag_model is not null or r.rule_model is not null then 'direct'
            when s.shared_pool is not null then 'shared'
            else 'unallocated'
        end as route
    from classes as c
    left join categories as k
        on c.ChargeCategory is not distinct from k.ChargeCategory
        and c.ServiceCategory is not distinct from k.ServiceCategory
        and c.ServiceName is not distinct from k.ServiceName
        and c.ChargeDescription is not distinct from k.ChargeDescription
        and c.publisher_differs = k.publisher_differs
        and c.tags is not distinct from k.tags
    left join tag_models as t on c.tags = t.tags
    left join pools as p
        on c.ResourceName is not distinct from p.ResourceName and c.ResourceId is not distinct from p.ResourceId
    left join rule_models as r
        on c.BillingAccountId is not distinct from r.BillingAccountId
        and c.SubAccountId is not distinct from r.SubAccountId
        and c.SubAccountName is not distinct from r.SubAccountName
        and c.ResourceId is not distinct from r.ResourceId
        and c.ResourceName is not distinct from r.ResourceName
        and c.ServiceName is not distinct from r.ServiceName
    left join shared_pools as s
        on c.ChargeCategory is not distinct from s.ChargeCategory
        and c.ServiceName is not distinct from s.ServiceName
        and c.ServiceCategory is not distinct from s.ServiceCategory
    left join phase_rules as ph
        on c.BillingAccountId is not distinct from ph.BillingAccountId
        and c.SubAccountId is not distinct from ph.SubAccountId
        and c.SubAccountName is not distinct from ph.SubAccountName
        and c.ResourceId is not distinct from ph.ResourceId
        and c.ResourceName is not distinct from ph.ResourceName
        and c.ServiceName is not distinct from ph.ServiceName
        and c.tags is not distinct from ph.tags
)

select * from final
