-- The registered models in the configuration's order (their chart colours follow it).
select model_id from meta.models order by model_order
