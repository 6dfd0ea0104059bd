-- The rows of the window part (written in by the code: GPU samples, or ledger.telemetry_days, of a
-- window of time) whose hostname is one of the hosts in _sample_hosts, exactly.

select *
from $in_window
where hostname in (select host from _sample_hosts)
