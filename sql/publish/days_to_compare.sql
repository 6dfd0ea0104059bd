-- The days of $period whose published rows may differ from the candidate's (run $run_id): those
-- whose digest as the candidate was validated (meta.validated_days) differs from the digest as
-- they were published (meta.published_days), and a null day always. A day's digest is a row
-- count and hash sum of every column but run_id, so a day whose digests agree holds the rows
-- published. Only called when the candidate was validated and the period published under the
-- same schema (pipeline.run.publish); otherwise every day is compared.

with validated as (
    select charge_date, digest
    from meta.validated_days
    where billing_period = $period and run_id = $run_id
),

published as (
    select charge_date, digest
    from meta.published_days
    where billing_period = $period
),

final as (
    select coalesce(v.charge_date, p.charge_date) as charge_date
    from validated as v
    full outer join published as p on v.charge_date = p.charge_date
    where v.digest is distinct from p.digest and coalesce(v.charge_date, p.charge_date) is not null
)

select * from final
