-- An empty labor_variance, for an HR database that has none yet (no labor built).
create temp table labor_variance (month varchar, currency varchar, hr_cost decimal(38, 18), variance decimal(38, 18))
