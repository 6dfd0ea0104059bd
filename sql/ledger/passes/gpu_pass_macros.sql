-- Macros of the pass over GPU samples (gpu_pass.sql, gpu_multi_holders.sql), temporary, per
-- connection.

-- The share of a GPU a MIG profile holds, in slices: `3g.40gb` holds 3 (1 when the profile names none)
create or replace temp macro mig_slices_held(mig_profile) as
coalesce(try_cast(nullif(regexp_extract(mig_profile, '^(\d+)g', 1), '') as bigint), 1);

-- Utilisation in basis points (10,000 = fully used), from the maxima of an instant's
-- DCGM_FI_PROF_GR_ENGINE_ACTIVE (a ratio) and DCGM_FI_DEV_GPU_UTIL (percent) samples: the engine
-- ratio when there is one, else the percentage; exact decimals rounded half to even, clipped to
-- [0, 10000]; null without either sample
create or replace temp macro utilisation_unclipped(active_ratio, util_percent) as
round_even(coalesce(active_ratio::decimal(38, 9) * 10000, util_percent::decimal(38, 9) * 100), 0)::bigint;

create or replace temp macro utilisation_bp(active_ratio, util_percent) as
case
    when utilisation_unclipped(active_ratio, util_percent) is null then null
    else least(greatest(utilisation_unclipped(active_ratio, util_percent), 0), 10000)
end;
