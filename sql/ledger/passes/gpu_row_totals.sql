-- The weight total each GPU-pool node row (by source_ref) is split by (_gpu_node_weights).

select source_ref, sum(w) as total
from _gpu_node_weights
group by source_ref
