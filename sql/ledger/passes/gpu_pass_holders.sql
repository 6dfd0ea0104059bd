-- The holders (MIG profile and instance, namespace, pod, container, labels) of the samples a pass
-- reads, numbered (`h`; gpu_pass.sql), each with the fraction num/den of a GPU it holds at an
-- instant it holds alone: a MIG profile its slices of $mig_slices, a pod on a whole GPU all of it,
-- or 1/replicas when replicas are declared ($replicas); no pod and no MIG labels: the whole GPU,
-- idle. The samples and their columns are written in by the code, as for gpu_pass.sql.
create or replace temp table _pass_holders as
select
    row_number() over () as h,
    *,
    case when mig_profile is not null or mig_instance is not null then mig_slices_held(mig_profile) else 1 end
        as num,
    case
        when mig_profile is not null or mig_instance is not null then $mig_slices
        when pod is null then 1
        else greatest(1, $replicas)
    end as den
from (
    select distinct mig_profile, mig_instance, namespace, pod, container, labels
    from (select $sample_columns from $samples)
)
