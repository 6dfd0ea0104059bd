-- One day of generated GPU telemetry (pipeline/generators/scale.py): rows in (host, GPU, minute) order
-- straight from range() (no sort). A GPU's holder in minute s is block
-- (s // 60 + 24 day + gpu + host) % (models + 2): a model's namespace, `models` = the unmapped sandbox,
-- `models + 1` = no pod (idle). Minute slot s is `step` seconds long.
with grid as (
    select t.r // $slots // $gpus_per_node as host, t.r // $slots % $gpus_per_node as gpu, t.r % $slots as s
    from range($gpus * $slots) as t (r)
),

labelled as (
    select
        *,
        (s // 60 + $day * 24 + gpu + host) % ($models + 2) as block,
        unnest(case
            when host >= $cloud_nodes then ['DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_POWER_USAGE']
            else ['DCGM_FI_DEV_GPU_UTIL']
        end) as metric
    from grid
)

select
    $day_start::timestamp + to_seconds(s * $step) as ts,
    case when host >= $cloud_nodes then 'dc1-gpu-' else 'gpu-node-' end || lpad(host::varchar, 4, '0') as hostname,
    gpu::varchar as gpu,
    metric,
    case
        when metric = 'DCGM_FI_DEV_POWER_USAGE' then case when block > $models then $idle else $busy end
        when block > $models then 0
        else 20 + (s * 7 + gpu * 13) % 80
    end::double as value,
    case when block < $models then 'ns-' || lpad(block::varchar, 3, '0') when block = $models then 'sandbox' end
        as namespace,
    case
        when block < $models then 'ns-' || lpad(block::varchar, 3, '0') || '-pod-' || gpu
        when block = $models then 'sandbox-pod-' || gpu
    end as pod,
    case when block <= $models then 'server' end as container
from labelled
