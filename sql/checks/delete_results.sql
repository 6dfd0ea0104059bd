delete from meta.check_results
where run_id = $run_id and billing_period = $period
