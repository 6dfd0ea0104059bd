-- The GPU samples of a window ($lo inclusive, $hi exclusive) and of the hosts in _sample_hosts,
-- where a sample's hostname is the host or its first DNS label is (the instance id `i-0abc` is the
-- node `i-0abc.ec2.internal`): such a sample takes the host's name.

select
    * replace (
        case
            when hostname in (select host from _sample_hosts) then hostname
            else split_part(hostname, '.', 1)
        end as hostname
    )
from staging.gpu_samples
where
    ts >= $lo and ts < $hi
    and (
        hostname in (select host from _sample_hosts)
        or split_part(hostname, '.', 1) in (select host from _sample_hosts)
    )
