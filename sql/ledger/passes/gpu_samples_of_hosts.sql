-- The rows of the window part (written in by the code: GPU samples, or ledger.telemetry_days, of a
-- window of time) where the hostname is a host in _sample_hosts or its first DNS label is (the
-- instance id `i-0abc` is the node `i-0abc.ec2.internal`): such a row takes the host's name.

select
    * replace (
        case
            when hostname in (select host from _sample_hosts) then hostname
            else split_part(hostname, '.', 1)
        end as hostname
    )
from $in_window
where
    hostname in (select host from _sample_hosts)
    or split_part(hostname, '.', 1) in (select host from _sample_hosts)
