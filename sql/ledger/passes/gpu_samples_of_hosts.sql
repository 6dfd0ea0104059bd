-- The rows of the window part (written in by the code: GPU samples, or ledger.telemetry_days, of a
-- window of time) where the hostname is a host in _sample_hosts or its first DNS label is (the
-- instance id `i-0abc` is the node `i-0abc.ec2.internal`): such a row takes the host's name.
--
-- The window's few distinct hostnames are matched first, and its rows joined to them by equality:
-- DuckDB then filters the rows as it scans them, where testing every row's first DNS label made it
-- read every column of every row of the window.

with names as (
    select
        hostname as delivered,
        case when hostname in (select host from _sample_hosts) then hostname else split_part(hostname, '.', 1) end
            as host
    from (select distinct hostname from $in_window)
    where
        hostname in (select host from _sample_hosts)
        or split_part(hostname, '.', 1) in (select host from _sample_hosts)
)

select w.* replace (n.host as hostname)
from $in_window as w
inner join names as n on w.hostname = n.delivered
