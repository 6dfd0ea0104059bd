-- One day of a generated billing export (pipeline/generators/scale.py): FOCUS 1.2 rows, money as exact
-- decimals. A day's row i (0-based) with global number g: the first 24 x cloud_nodes rows (pool_rows)
-- are the GPU node hours; the rest take their kind from g % 100. `h` is a pseudo-random 32-bit number of g.
-- The generator writes the values of its parameters in (a month's file is the union of its days).
with base as (
    select t.i, $offset + t.i as g, (($offset + t.i) * 2654435761 + $seed * 1000003) % 4294967296 as h
    from range($rows) as t (i)
),

kinds as (
    select
        *,
        case
            when i < $pool_rows then 'node'
            when i = $pool_rows and $day = 0 then 'purchase'
            when g % 100 < 10 then 'azure'
            when g % 100 = 10 then 'untagged'
            when g % 100 = 11 then 'unregistered'
            when g % 100 = 12 then 'account_rule'
            when g % 100 = 13 then 'support'
            when g % 100 = 14 then 'tax'
            when g % 100 < 25 then 'data'
            else 'usage'
        end as kind,
        'model-' || lpad((h % $models)::varchar, 3, '0') as model,
        $day_start::timestamp + to_hours(case when i < $pool_rows then i % 24 else g % 24 end) as hour_start
    from base
),

costs as (
    select
        *,
        case kind
            when 'node' then $node_hourly::decimal(38, 10)
            when 'purchase' then $purchase::decimal(38, 10)
            else ((h % 5000000000) + 1)::decimal(38, 0)::decimal(38, 10) * 0.0000000001::decimal(38, 10)
        end::decimal(38, 10) as effective,
        kind = 'node' and (i // 24) % 3 = 0 as covered,
        kind in ('tax', 'support', 'purchase') as daily,
        'gpu-node-' || lpad((i // 24)::varchar, 4, '0') as node_name
    from kinds
)

select
    case when kind = 'azure' then 'ea-0001' else '111111111111' end as BillingAccountId,
    case when kind = 'azure' then 'Retail EA' else 'Retail Prod' end as BillingAccountName,
    case when kind = 'account_rule' then 'acct-exp' when kind = 'azure' then 'sub-shared' else '222222222222' end
        as SubAccountId,
    case when kind = 'account_rule' then 'experiments' else 'ml-serving' end as SubAccountName,
    $month_start::timestamp as BillingPeriodStart,
    $month_end::timestamp as BillingPeriodEnd,
    case when daily then $day_start::timestamp else hour_start end as ChargePeriodStart,
    case when daily then $day_start::timestamp + interval 1 day else hour_start + interval 1 hour end
        as ChargePeriodEnd,
    case kind when 'tax' then 'Tax' when 'purchase' then 'Purchase' else 'Usage' end as ChargeCategory,
    cast(null as varchar) as ChargeClass,
    case kind
        when 'node' then 'p4d.24xlarge GPU instance hour'
        when 'data' then 'S3 training data'
        when 'support' then 'Business support'
        when 'tax' then 'Sales tax'
        when 'purchase' then 'Savings Plan purchase'
        when 'azure' then 'D8s v5 hours'
        else (['c6i.4xlarge instance hours', 'S3 standard storage', 'Data transfer out', 'RDS db.r6g.large'])[1 + h % 4]
    end as ChargeDescription,
    case when kind = 'purchase' then 'One-Time' else 'Usage-Based' end as ChargeFrequency,
    case when covered then 0::decimal(38, 10) else effective end as BilledCost,
    case when kind = 'purchase' then 0::decimal(38, 10) else effective end as EffectiveCost,
    effective as ListCost,
    effective as ContractedCost,
    case when kind = 'azure' then 'EUR' else 'USD' end as BillingCurrency,
    case when kind = 'azure' then 'EUR' else 'USD' end as PricingCurrency,
    1::decimal(38, 6) as ConsumedQuantity,
    'Hours' as ConsumedUnit,
    case when kind = 'azure' then 'Microsoft' else 'AWS' end as ProviderName,
    case when kind = 'azure' then 'Microsoft' else 'Amazon Web Services, Inc.' end as PublisherName,
    case when kind = 'azure' then 'Microsoft' else 'Amazon Web Services, Inc.' end as InvoiceIssuerName,
    'INV-' || $month || '-' || case when kind = 'azure' then 'AZ' else 'AWS' end as InvoiceId,
    case when kind = 'azure' then 'westeurope' else 'us-east-1' end as RegionId,
    case
        when kind = 'node' then 'arn:aws:ec2:us-east-1:111111111111:instance/' || node_name
        else 'r-' || (g % 997)::varchar
    end as ResourceId,
    case when kind = 'node' then node_name else cast(null as varchar) end as ResourceName,
    cast(null as varchar) as ResourceType,
    case kind
        when 'data' then 'Storage' when 'support' then 'Management and Governance' when 'tax' then 'Other'
        when 'purchase' then 'Compute' else 'Compute'
    end as ServiceCategory,
    case kind
        when 'node' then 'Amazon Elastic Compute Cloud'
        when 'data' then 'Amazon Simple Storage Service'
        when 'support' then 'AWS Support (Business)'
        when 'tax' then 'Tax'
        when 'purchase' then 'Savings Plans for AWS Compute usage'
        when 'azure' then 'Virtual Machines'
        else 'Amazon Elastic Compute Cloud'
    end as ServiceName,
    'SKU' || (h % 50)::varchar as SkuId,
    case when covered or kind = 'purchase' then 'sp-1' else cast(null as varchar) end as CommitmentDiscountId,
    case when covered or kind = 'purchase' then 'Savings Plan' else cast(null as varchar) end as CommitmentDiscountType,
    case kind
        when 'usage' then '{"model":"' || model || '"}'
        when 'azure' then '{"model":"' || model || '"}'
        when 'data' then '{"model":"' || model || '","cost_category":"data"}'
        when 'unregistered' then '{"model":"legacy-scorer"}'
        else cast(null as varchar)
    end as Tags
from costs
