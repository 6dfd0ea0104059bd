"""pipeline.ingest.labor_standard's rules on small hand-made groups: rate periods, rate groups
(band -> family -> all staff), and labor cells (merged or withheld under k)."""

from __future__ import annotations

from decimal import Decimal

from pipeline.ingest.labor_groups import (
    ALL_STAFF,
    Member,
    cell_labels,
    period_months,
    publishable,
    rate,
    rate_groups,
    rate_period,
)


def members(**pay: int) -> dict[str, Member]:
    """person -> Member, each employed 60 working days with the pay given."""
    return {person: Member(Decimal(amount), 60) for person, amount in pay.items()}


# ml-engineers: 600.00, 700.00 and 850.00 a day; together 129,000 / 180 = 716.666... -> 716.67
ML = members(m1=36_000, m2=42_000, m3=51_000)


def test_rate_periods():
    assert rate_period("2026-05", "quarter") == "2026-Q2"
    assert rate_period("2026-12", "quarter") == "2026-Q4"
    assert rate_period("2026-05", "year") == "2026"
    assert period_months("2026-Q2") == ["2026-04", "2026-05", "2026-06"]
    assert period_months("2026") == [f"2026-{m:02d}" for m in range(1, 13)]


def test_a_rate_is_pay_per_person_day_rounded_half_to_even():
    assert rate(ML.values()) == Decimal("716.67")
    # 1,000.25 / 2 days = 500.125 -> 500.12 (half to even); 1,000.75 / 2 = 500.375 -> 500.38
    assert rate([Member(Decimal("1000.25"), 2)]) == Decimal("500.12")
    assert rate([Member(Decimal("1000.75"), 2)]) == Decimal("500.38")


def test_a_group_of_k_equally_paid_people_is_not_publishable():
    # three sres at 500.00 a day: their rate, 500.00, is each one's pay
    assert not publishable(members(s1=30_000, s2=30_000, s3=30_000), 3)
    # 600 + 700 + 800 = 2,100 / 3 = 700.00: the middle one's pay, whoever that is
    assert not publishable(members(a=36_000, b=42_000, c=48_000), 3)
    assert publishable(ML, 3)
    assert not publishable(ML, 4)


def test_an_equal_pay_band_merges_into_all_staff_which_folds_in_the_smallest_group():
    bands = {"sre": members(s1=30_000, s2=30_000, s3=30_000), "ml-engineer": ML}
    labels, published = rate_groups(bands, k=3, families={})
    # sre is not publishable: all staff = {s1, s2, s3}, still 500.00 each; it folds in ml-engineer:
    # (90,000 + 129,000) / 360 = 608.33, none of 500, 600, 700, 850
    assert labels == {"sre": ALL_STAFF, "ml-engineer": ALL_STAFF}
    assert published


def test_small_bands_merge_into_their_family_first():
    bands = {
        "sre": members(s1=30_000),  # 500.00
        "data-engineer": members(d1=33_000, d2=39_000),  # 550.00, 650.00
        "ml-engineer": ML,
        "data-scientist": members(x1=27_000, x2=45_000, x3=54_000),  # 450, 750, 900: 126,000 / 180 = 700.00, nobody's
    }
    families = {"sre": "engineering", "data-engineer": "engineering", "ml-engineer": "engineering"}
    labels, published = rate_groups(bands, k=3, families=families)
    # engineering = {s1, d1, d2}: 102,000 / 180 = 566.67, three people: the ml-engineers keep their own rate
    assert labels == {
        "sre": "engineering",
        "data-engineer": "engineering",
        "ml-engineer": "ml-engineer",
        "data-scientist": "data-scientist",
    }
    assert published


def test_a_family_too_small_even_whole_goes_to_all_staff():
    bands = {"sre": members(s1=30_000), "ml-engineer": ML}
    labels, published = rate_groups(bands, k=3, families={"sre": "operations"})
    # operations = {s1} only: the sre goes to all staff, which folds in the ml-engineers
    assert labels == {"sre": ALL_STAFF, "ml-engineer": ALL_STAFF}
    assert published


def test_a_company_smaller_than_k_publishes_no_rate():
    labels, published = rate_groups({"a": members(p1=30_000), "b": members(p2=36_000)}, k=3, families={})
    assert labels == {"a": ALL_STAFF, "b": ALL_STAFF}
    assert not published


def test_cells_of_fewer_than_k_merge_into_all_staff_or_are_withheld():
    # each group k or more: cells of their own
    assert cell_labels({"eng": {"a", "b", "c", "e"}, "ds": {"d", "f", "g"}}, 3) == {"eng": "eng", "ds": "ds"}
    # two small groups of 2: together 4, an all-staff cell without folding
    assert cell_labels({"eng": {"a", "b"}, "ds": {"d", "f"}}, 3) == {"eng": ALL_STAFF, "ds": ALL_STAFF}
    # one lone data scientist: all staff folds in the smallest other cell (ds 3 before eng 3, by name)
    labels = cell_labels({"eng": {"a", "b", "c"}, "ds": {"d", "e", "f"}, "ml": {"g"}}, 3)
    assert labels == {"eng": "eng", "ds": ALL_STAFF, "ml": ALL_STAFF}
    # two people on the model: nothing can be shown
    assert cell_labels({"eng": {"a"}, "ds": {"d"}}, 3) is None
    # a rate group called all staff takes the model's small cells in
    assert cell_labels({ALL_STAFF: {"a", "b", "c"}, "ds": {"d"}}, 3) == {ALL_STAFF: ALL_STAFF, "ds": ALL_STAFF}
