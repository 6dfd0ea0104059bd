-- Filled by pipeline.marts.savings when a period is published (its interval is a bootstrap).
create table if not exists marts.optimization_savings (
    action_date              date not null,
    model_id                 varchar not null,
    action                   varchar not null,
    description              varchar not null,
    scope                    varchar not null,
    month                    varchar not null,
    days                     integer not null,
    requests                 bigint not null,
    baseline_per_1k          decimal(38, 18),
    expected_cost            decimal(38, 18),
    actual_cost              decimal(38, 18) not null,
    saving                   decimal(38, 18),
    saving_low               double,
    saving_high              double,
    cumulative_saving        decimal(38, 18),
    cumulative_low           double,
    cumulative_high          double,
    measured_cut             double,
    measured_cut_low         double,
    measured_cut_high        double,
    cumulative_cut           double,
    cumulative_cut_low       double,
    cumulative_cut_high      double,
    model_cost               decimal(38, 18) not null,
    share_of_model_cost      double,
    claimed_saving_percent   decimal(38, 9),
    claim                    varchar not null,
    other_actions            integer not null,
    level                    double not null
);
comment on table marts.optimization_savings is 'One row per optimisation action and calendar month from the month it went live: the saving realised that month and the running total, with intervals. Method: the baseline is the action''s scope cost per 1,000 requests over the 14 days before it (as the impact report); a month''s saving = baseline x the month''s requests (from the action day) / 1000 - the scope cost actually paid. Interval: a seeded bootstrap that resamples the baseline days and each month''s days (the same baseline draw for every month of a draw, so the running total''s interval is joint); the first month''s cut interval is the impact report''s change interval.';
comment on column marts.optimization_savings.action_date is 'Day the action went live.';
comment on column marts.optimization_savings.model_id is 'Model acted on.';
comment on column marts.optimization_savings.action is 'Action (optimisation log).';
comment on column marts.optimization_savings.description is 'What was done.';
comment on column marts.optimization_savings.scope is 'Cost the action is judged on: gpu (the model''s GPU-hour rows: quantisation, right-sizing, spot, autoscaling) or all (six categories).';
comment on column marts.optimization_savings.month is 'Calendar month YYYY-MM.';
comment on column marts.optimization_savings.days is 'Days of the month, from the action day, with requests.';
comment on column marts.optimization_savings.requests is 'Requests on those days.';
comment on column marts.optimization_savings.baseline_per_1k is 'Scope cost per 1,000 requests in the 14 days before the action (exact); null without requests then.';
comment on column marts.optimization_savings.expected_cost is 'baseline_per_1k x requests / 1000: what the month would have cost at the baseline (exact, rounded half-even to 18 decimals).';
comment on column marts.optimization_savings.actual_cost is 'Scope cost on those days, exact.';
comment on column marts.optimization_savings.saving is 'expected_cost - actual_cost: realised saving that month (positive = saved).';
comment on column marts.optimization_savings.saving_low is 'Lower end of the saving''s bootstrap interval (DOUBLE).';
comment on column marts.optimization_savings.saving_high is 'Upper end (DOUBLE).';
comment on column marts.optimization_savings.cumulative_saving is 'Running total of saving from the first month to this one (exact).';
comment on column marts.optimization_savings.cumulative_low is 'Lower end of the running total''s interval (DOUBLE).';
comment on column marts.optimization_savings.cumulative_high is 'Upper end (DOUBLE).';
comment on column marts.optimization_savings.measured_cut is 'saving / expected_cost: the cut of the scope cost per request that month (0.30 = 30 %).';
comment on column marts.optimization_savings.measured_cut_low is 'Lower end of its interval.';
comment on column marts.optimization_savings.measured_cut_high is 'Upper end of its interval.';
comment on column marts.optimization_savings.cumulative_cut is 'cumulative saving / cumulative expected cost.';
comment on column marts.optimization_savings.cumulative_cut_low is 'Lower end of its interval.';
comment on column marts.optimization_savings.cumulative_cut_high is 'Upper end of its interval.';
comment on column marts.optimization_savings.model_cost is 'The model''s cost in all six categories on the same days, exact.';
comment on column marts.optimization_savings.share_of_model_cost is 'saving / (model_cost + saving): the cut of the model''s whole cost the saving stands for.';
comment on column marts.optimization_savings.claimed_saving_percent is 'Saving the optimisation log claims (percent of the scope cost), if any.';
comment on column marts.optimization_savings.claim is 'What the data says of the claim, by the running total''s cut interval: supported (the claim is inside it), overstated (above it), understated (below it), no_claim, or no_data.';
comment on column marts.optimization_savings.other_actions is 'Other actions on the same model live by the month''s end: the saving is theirs too (confounded) when more than 0.';
comment on column marts.optimization_savings.level is 'Coverage of the intervals (0.95).';
