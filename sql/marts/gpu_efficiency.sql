create or replace view marts.gpu_efficiency as
with gpu_rows as (
    select
        l.charge_date,
        l.model_id,
        l.unallocated_reason,
        l.currency,
        l.source,
        l.subcategory,
        l.quantity,
        l.quantity_unit,
        l.effective_cost,
        l.source_ref,
        b.ResourceName as resource_name,
        b.ResourceId as resource_id,
        regexp_extract(l.source_ref, '@([^/]+)/', 1) as owned_host
    from ledger.cost_ledger as l
    left join staging.billing as b
        on
        l.source = 'billing'
        and b.load_id = split_part(l.source_ref, ':', 1)  -- source_ref = load_id:row_number
        and b.row_number = try_cast(split_part(l.source_ref, ':', 2) as bigint)
    where
        (l.source = 'billing' and l.quantity_unit = 'GPU-hours')
        or (l.source = 'assets' and l.subcategory in ('depreciation', 'maintenance'))
        or (l.source = 'energy' and l.subcategory = 'energy')
),

cloud_nodes as (
    select
        r.resource_name,
        r.resource_id,
        arg_min(p.name, p.pool_order) as pool,
        arg_min(
            case
                when regexp_full_match(coalesce(r.resource_name, ''), p.node_pattern) then r.resource_name
                else regexp_extract(r.resource_id, '[^/]+$')
            end,
            p.pool_order
        ) as host
    from (select distinct resource_name, resource_id from gpu_rows where source = 'billing') as r
    inner join meta.gpu_pools as p
        on regexp_full_match(coalesce(r.resource_name, ''), p.node_pattern)
        or (p.resource_id_pattern is not null and regexp_full_match(coalesce(r.resource_id, ''), p.resource_id_pattern))
    group by r.resource_name, r.resource_id
),

placed as (
    select
        g.*,
        case when g.source = 'billing' then coalesce(n.pool, '?') else 'owned' end as pool,
        case when g.source = 'billing' then coalesce(n.host, g.resource_name) else g.owned_host end as host
    from gpu_rows as g
    left join cloud_nodes as n
        on g.source = 'billing'
        and n.resource_name is not distinct from g.resource_name
        and n.resource_id is not distinct from g.resource_id
),

-- GPU-hours: a cloud node's gpu_compute rows; an owned server's depreciation and maintenance rows
-- are splits of the same GPU time, so its hours are counted once (the larger of the two per split)
held as (
    select charge_date, pool, host, model_id, max(hours) as gpu_hours
    from (
        select charge_date, pool, host, model_id, unallocated_reason, subcategory, source_ref, sum(quantity) as hours
        from placed
        where quantity_unit = 'GPU-hours'
        group by charge_date, pool, host, model_id, unallocated_reason, subcategory, source_ref
    )
    group by charge_date, pool, host, model_id, unallocated_reason, source_ref
),

hours as (
    select charge_date, pool, model_id, sum(gpu_hours) as gpu_hours
    from held
    group by charge_date, pool, model_id
),

cost as (
    select
        charge_date,
        pool,
        model_id,
        any_value(currency) as currency,
        sum(effective_cost) filter (where subcategory <> 'energy') as gpu_cost,
        coalesce(sum(effective_cost) filter (where subcategory = 'energy'), 0) as energy_cost
    from placed
    group by charge_date, pool, model_id
),

hosts as (
    select distinct pool, host from placed
),

-- utilisation: each sample's GR_ENGINE_ACTIVE (x 100), else GPU_UTIL, weighed by its step; the
-- sample's workload -> model by the first matching rule of meta.workload_rules
samples as (
    select
        s.hostname,
        s.ts,
        s.gpu,
        s.mig_instance,
        s.namespace,
        s.pod,
        any_value(s.step_seconds) as step_seconds,
        coalesce(
            max(s.value) filter (where s.metric = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE') * 100,
            max(s.value) filter (where s.metric = 'DCGM_FI_DEV_GPU_UTIL')
        ) as util_percent
    from staging.gpu_samples as s
    where s.metric in ('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'DCGM_FI_DEV_GPU_UTIL')
    group by s.hostname, s.ts, s.gpu, s.mig_instance, s.namespace, s.pod
),

workload_models as (
    select w.namespace, w.pod, arg_min(r.model_id, r.rule_order) as model_id
    from (
        select distinct namespace, pod from staging.gpu_samples
        where pod is not null and metric in ('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'DCGM_FI_DEV_GPU_UTIL')
    ) as w
    inner join meta.workload_rules as r
        on w.namespace is not null
        and regexp_full_match(w.namespace, r.namespace_pattern)
        and regexp_full_match(w.pod, r.pod_pattern)
    group by w.namespace, w.pod
),

-- the utilisation-weighted time per host, day and workload first (exact decimal sums), so the joins
-- below meet a row per host, day and pod, not one per sample
host_days as (
    select
        hostname,
        ts::date as charge_date,
        namespace,
        pod,
        sum(util_percent * step_seconds) as util_seconds,
        sum(step_seconds) as seconds
    from samples
    group by hostname, ts::date, namespace, pod
),

host_day_models as (
    select
        s.*,
        case when s.pod is null then '__idle__' else coalesce(m.model_id, '__unallocated__') end as model_id
    from host_days as s
    left join workload_models as m
        on m.namespace is not distinct from s.namespace and m.pod = s.pod
),

-- a sample's node: its hostname, or else the hostname's first DNS label (an instance id), matched
-- for each distinct hostname once; the rows then join them by equality
host_pools as (
    select d.hostname, h.pool
    from (select distinct hostname from host_day_models) as d
    inner join hosts as h
        on h.host
        = case when d.hostname in (select host from hosts) then d.hostname else split_part(d.hostname, '.', 1) end
),

utilisation as (
    select
        s.charge_date,
        h.pool,
        s.model_id,
        sum(s.util_seconds) / nullif(sum(s.seconds), 0) as mean_utilisation_percent
    from host_day_models as s
    inner join host_pools as h on s.hostname = h.hostname
    group by s.charge_date, h.pool, s.model_id
),

final as (
    select
        c.charge_date,
        c.pool,
        c.model_id,
        c.currency,
        coalesce(h.gpu_hours, 0) as gpu_hours,
        u.mean_utilisation_percent::double as mean_utilisation_percent,
        sum(coalesce(h.gpu_hours, 0)) filter (where c.model_id = '__idle__') over day_pool
        / nullif(sum(coalesce(h.gpu_hours, 0)) over day_pool, 0) as pool_idle_share,
        c.gpu_cost,
        c.energy_cost,
        c.gpu_cost + c.energy_cost as cost,
        (c.gpu_cost + c.energy_cost) / nullif(h.gpu_hours, 0) as cost_per_gpu_hour
    from cost as c
    left join hours as h
        on h.charge_date = c.charge_date and h.pool = c.pool and h.model_id = c.model_id
    left join utilisation as u
        on u.charge_date = c.charge_date and u.pool = c.pool and u.model_id = c.model_id
    window day_pool as (partition by c.charge_date, c.pool)
)

select * from final;
comment on view marts.gpu_efficiency is 'One row per day, GPU pool and model (or __idle__ / __unallocated__): GPU-hours held, mean utilisation, the pool''s idle share and the GPU cost (cloud node time, or owned depreciation, maintenance and energy), from ledger.cost_ledger and staging.gpu_samples.';
comment on column marts.gpu_efficiency.charge_date is 'Day (UTC).';
comment on column marts.gpu_efficiency.pool is 'GPU pool: a [[gpu_pools]] name (meta.gpu_pools) for cloud nodes, owned for owned servers.';
comment on column marts.gpu_efficiency.model_id is 'Model, or __idle__ (GPU time no workload held) or __unallocated__ (unmapped workload, telemetry gap).';
comment on column marts.gpu_efficiency.currency is 'Reporting currency.';
comment on column marts.gpu_efficiency.gpu_hours is 'GPU-hours held that day (MIG slices and time-sliced pods as fractions of a GPU); 0 for idle time redistributed to models.';
comment on column marts.gpu_efficiency.mean_utilisation_percent is 'Time-weighted mean GPU utilisation of the model''s samples that day, percent (GR_ENGINE_ACTIVE x 100, else GPU_UTIL); a measurement (DOUBLE). Null without utilisation samples.';
comment on column marts.gpu_efficiency.pool_idle_share is 'The pool''s __idle__ GPU-hours / all its GPU-hours that day (the same on every row of the pool and day).';
comment on column marts.gpu_efficiency.gpu_cost is 'Effective cost of the GPU time: cloud node rows (gpu_compute) or owned depreciation and maintenance, exact.';
comment on column marts.gpu_efficiency.energy_cost is 'Effective cost of measured energy (owned servers), exact; 0 for cloud pools.';
comment on column marts.gpu_efficiency.cost is 'gpu_cost + energy_cost, exact.';
comment on column marts.gpu_efficiency.cost_per_gpu_hour is 'cost / gpu_hours; null when no GPU-hours.';
