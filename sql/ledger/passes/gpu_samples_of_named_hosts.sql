-- The GPU samples of a window ($lo inclusive, $hi exclusive) whose hostname is one of the hosts in
-- _sample_hosts, exactly.

select *
from staging.gpu_samples
where ts >= $lo and ts < $hi and hostname in (select host from _sample_hosts)
