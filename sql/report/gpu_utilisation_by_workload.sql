select
    namespace, pod, sum(interval_seconds) as seconds,
    sum(gpu_util_percent * interval_seconds) as util_seconds
from staging.gpu_usage
where interval_start >= $start and interval_start < $end and namespace is not null
group by namespace, pod
order by namespace, pod
