-- One row per distinct tag set (Tags) of the billing rows being routed (_billing_loads) and tag key,
-- as Python's json.loads and pipeline.ledger.attribution.normalise_tags read it: a key repeated in
-- the JSON keeps its first place and its last value; null values are dropped; keys are trimmed and
-- lower-cased, values trimmed; two keys equal after that: the later one wins. `python_only` marks
-- tag sets with a value that is not a string, integer or boolean (a float, list or object): their
-- text is Python's str() of the value, so the build reads those few sets in Python instead.

with tag_sets as (
    select distinct b.Tags::varchar as tags
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
    where b.Tags is not null
),

entries as (
    select s.tags, e.key, e.type, e.value, e.id as place
    from tag_sets as s, json_each(s.tags) as e
    where json_type(s.tags) = 'OBJECT'
),

json_keys as (
    select tags, key, min(place) as place, arg_max(type, place) as type, arg_max(value, place) as value
    from entries
    group by tags, key
),

exotic as (
    select distinct tags
    from json_keys
    where type not in ('VARCHAR', 'BOOLEAN', 'UBIGINT', 'BIGINT', 'NULL')
),

normal as (
    select
        tags,
        lower(python_strip(key)) as tag_key,
        place,
        python_strip(case type
            when 'VARCHAR' then value ->> '$'
            when 'BOOLEAN' then case when value::varchar = 'true' then 'True' else 'False' end
            else value::varchar
        end) as tag_value
    from json_keys
    where type <> 'NULL'
),

ranked as (
    select *, row_number() over (partition by tags, tag_key order by place desc) as later_first
    from normal
),

final as (
    select r.tags, r.tag_key, r.tag_value, e.tags is not null as python_only
    from ranked as r
    left join exotic as e on r.tags = e.tags
    where r.later_first = 1
    union all
    select tags, null, null, true
    from exotic
)

select * from final
