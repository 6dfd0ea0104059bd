-- The GPUs (host and GPU) of the samples a pass reads, numbered (`g`; gpu_pass.sql), with their
-- samples (how the hosts are grouped: pipeline.ledger.gpu_pass.host_groups). A pass over some of
-- these samples (a group of hosts) finds its GPUs here. The samples and their columns are written
-- in by the code (pipeline.ledger.frame.fill), as for gpu_pass.sql.
create or replace temp table _pass_gpus as
select row_number() over () as g, hostname, gpu, samples
from (select hostname, gpu, count(*) as samples from (select $sample_columns from $samples) group by hostname, gpu)
