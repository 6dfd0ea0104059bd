-- sqlfluff:exclude_rules:LT02
-- (LT02: sqlfluff wants a macro's body flush left after `as`; the bodies here are indented)
-- Macros of the ledger build (temporary, per connection).
--
-- Exact money on 128-bit integer quanta, the same rules as pipeline/money.py: an amount
-- DECIMAL(38, 18) is a count of 1e-18 quanta; a rate DECIMAL(38, 10) a count of 1e-10; a quantity
-- DECIMAL(38, 9) a count of 1e-9. No step rounds silently, and DuckDB raises on a HUGEINT overflow
-- (the build checks the bounds first: split_bounds.sql).
--
-- HUGEINT division and DECIMAL rescaling are slow in DuckDB (long division); multiplication,
-- addition and DOUBLE arithmetic are fast. So a quotient is first estimated in DOUBLE, then
-- corrected exactly with HUGEINT multiplication, and a last step makes it exact.
--
-- How many corrections: a HUGEINT reaches DOUBLE within a relative 2^-52 (DuckDB adds its two
-- 64-bit halves: two roundings), so a DOUBLE quotient of two of them is within 2^-51.4 of the true
-- one. The first estimate of a quotient Q is off by at most Q x 2^-51.4 + 1; a correction step
-- divides the exact remainder (n - estimate x d, HUGEINT) by d in DOUBLE, which leaves it off by at
-- most (its error before) x 2^-51.4 + 1. For any 128-bit quotient (|Q| < 2^127): 2^75.6, then
-- 2^24.2, then below 2 after two steps; for |Q| < 1e30 (2^99.7): 2^48.3, then below 2 after one.
-- Off by less than 2 is off by -1, 0 or +1: floor_div_fix makes it exact. Each step left out
-- halves what DuckDB plans, as a macro is written out in full at every call.
-- A macro repeats its arguments, so the queries pass them columns (computed in an earlier CTE),
-- never another heavy macro. tests/ledger/test_sql_money.py checks them against Python's integers.

-- quanta (HUGEINT) -> DECIMAL(38, 18): the same integer at scale 18
create or replace temp macro money_of(quanta) as
    quanta::decimal(38, 0) * 0.000000000000000001;

-- a count of 1e-9 -> DECIMAL(38, 9)
create or replace temp macro quantity_of_nanos(nanos) as
    nanos::decimal(38, 0) * 0.000000001;

-- DECIMAL(38, 18) -> its quanta (exact): an estimate through DOUBLE (kept within the 38 digits a
-- DECIMAL(38, 18) has), corrected twice by the exact difference of the decimals
create or replace temp macro money_quanta_within(estimate) as
    least(
        greatest(estimate, -99999999999999999999999999999999999999::hugeint),
        99999999999999999999999999999999999999::hugeint
    );

create or replace temp macro money_quanta_step(amount, estimate) as
    money_quanta_within(estimate) + round((amount - money_of(money_quanta_within(estimate)))::double * 1e18)::hugeint;

create or replace temp macro money_quanta(amount) as
    money_quanta_step(amount, money_quanta_step(amount, round(amount::double * 1e18)::hugeint));

-- DECIMAL(38, 10) -> its count of 1e-10 (exact), likewise
create or replace temp macro rate_quanta_step(rate, estimate) as
    estimate + round((rate - estimate::decimal(38, 0) * 0.0000000001)::double * 1e10)::hugeint;

create or replace temp macro rate_quanta(rate) as
    rate_quanta_step(rate, rate_quanta_step(rate, round(rate::double * 1e10)::hugeint));

-- floor(n / d) for d > 0 (HUGEINT), exact
create or replace temp macro floor_div_step(n, d, estimate) as
    estimate + floor((n - estimate * d)::double / d::double)::hugeint;

create or replace temp macro floor_div_fix(n, d, estimate) as
    estimate + case when n - estimate * d < 0 then -1 when n - estimate * d >= d then 1 else 0 end;

create or replace temp macro floor_div(n, d) as
    floor_div_fix(n, d, floor_div_step(n, d, floor_div_step(n, d, floor(n::double / d::double)::hugeint)));

-- the same for a quotient under 1e30 in magnitude (conversions, rounding to fewer decimals,
-- shares): one correction step is enough, and the query is half the size
create or replace temp macro floor_div_bounded(n, d) as
    floor_div_fix(n, d, floor_div_step(n, d, floor(n::double / d::double)::hugeint));

-- n / d rounded half to even (d > 0), given f = floor_div(n, d) (a column)
create or replace temp macro even_round(n, d, f) as
    f + case
        when (n - f * d) * 2 > d then 1
        when (n - f * d) * 2 = d and (f & 1) = 1 then 1
        else 0
    end;

-- FX conversion: an amount of q quanta at a rate of r (1e-10) is q x r / 1e10 quanta, rounded half
-- to even, without a product beyond 128 bits: q = hi x 1e10 + lo (0 <= lo < 1e10), so the result is
-- hi x r + lo x r / 1e10. For any amount within 1e12 and rate below 1e8 (pipeline.money's range)
-- hi x r stays below 1e38 and lo x r below 1e28. In three steps, each given the last one's columns:
-- hi = convert_hi(q); n = convert_low(q, hi, r); the quanta: convert_round(hi, r, n, floor_div_bounded(n, 1e10)).
create or replace temp macro convert_hi(q) as
    floor_div_bounded(q, 10000000000::hugeint);

create or replace temp macro convert_low(q, hi, r) as
    (q - hi * 10000000000::hugeint) * r;

create or replace temp macro convert_round(hi, r, n, f) as
    hi * r + f + case
        when (n - f * 10000000000::hugeint) * 2 > 10000000000::hugeint then 1
        when (n - f * 10000000000::hugeint) * 2 = 10000000000::hugeint and ((hi * r + f) & 1) = 1 then 1
        else 0
    end;

-- Largest remainders, the exact split of every query that splits an amount: the part of `amount`
-- (quanta) that a row of weight `weight` takes among the rows of one split (`split_by`: the rows with
-- the same value of it; their weights add up to `total`), given its floor share `base` =
-- floor_div(amount x weight, total): the floor share, plus one of the split's leftover quanta
-- (the amount less the split's floor shares) when its remainder (amount x weight - base x total)
-- is among the largest, ties to the smallest `tie`. The parts of a split add up to its amount.
create or replace temp macro largest_remainder_part(amount, weight, total, base, split_by, tie) as
    base + case
        when
            row_number() over (partition by split_by order by amount * weight - base * total desc, tie)
            <= amount - sum(base) over (partition by split_by)
            then 1
        else 0
    end;

-- weight / total as a decimal with 18 places, truncated (pipeline.money.allocation_share)
create or replace temp macro share_of(weight, total) as
    money_of(floor_div_bounded(weight::hugeint * 1000000000000000000::hugeint, total::hugeint));

-- Python's str.strip(): every character str.isspace() knows, at either end
create or replace temp macro python_strip(text) as regexp_replace(
    text,
    '^[\s\x0b\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+|[\s\x0b\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+$',  -- noqa: LT05 (one regular expression)
    '',
    'g'
);
