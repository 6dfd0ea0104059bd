"""Rate groups and their rates, pure functions of the members' pay (rules 1 and 2 of
pipeline.ingest.labor_standard): a band's group (itself, its role family or all staff) so that
every published rate is the mean of at least k people and none of theirs alone, the rate per
person-day, and the labor cells of a model (rule 4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

ALL_STAFF = "all staff"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Member:
    """A person's fully loaded pay over a rate period and the working days employed in it."""

    pay: Decimal
    days: int


def rate_period(month: str, kind: str) -> str:
    """The rate period of a month: '2026' (year) or '2026-Q1' (quarter)."""
    year, number = month.split("-")
    return year if kind == "year" else f"{year}-Q{(int(number) - 1) // 3 + 1}"


def period_months(period: str) -> list[str]:
    year, _, quarter = period.partition("-Q")
    first, count = ((int(quarter) - 1) * 3 + 1, 3) if quarter else (1, 12)
    return [f"{year}-{m:02d}" for m in range(first, first + count)]


def rate(members: Iterable[Member]) -> Decimal:
    """Pay per person-day, rounded half to even to cents."""
    members = list(members)
    with localcontext() as context:
        context.prec = 60
        pay = sum((m.pay for m in members), Decimal(0))
        return (pay / sum(m.days for m in members)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def publishable(members: Mapping[str, Member], k: int) -> bool:
    """At least k people, and the group's rate is none of theirs alone."""
    if len(members) < k:
        return False
    group = rate(members.values())
    return all(rate([m]) != group for m in members.values())


def rate_groups(
    bands: Mapping[str, Mapping[str, Member]], *, k: int, families: Mapping[str, str]
) -> tuple[dict[str, str], bool]:
    """band -> rate group (the band, its family or all staff), and whether every group may be
    published. `bands`: band -> person -> Member, for one rate period and currency."""
    label = {band: band for band in bands}

    def members(group: str) -> dict[str, Member]:
        return {p: m for band, people in bands.items() if label[band] == group for p, m in people.items()}

    def fold(group: str, others: Iterable[str]) -> None:
        """Fold the smallest of `others` into `group`, one at a time, until it is publishable."""
        for other in sorted(others, key=lambda g: (len(members(g)), g)):
            if publishable(members(group), k):
                return
            for band in bands:
                if label[band] == other:
                    label[band] = group

    for family in sorted({families[b] for b in bands if b in families}):
        own = sorted(b for b in bands if families.get(b) == family)
        small = [b for b in own if not publishable(bands[b], k)]
        if not small:
            continue
        whole = {p: m for b in own for p, m in bands[b].items()}
        target = family if publishable(whole, k) else ALL_STAFF
        for band in small:
            label[band] = target
        if target == family:
            fold(family, [b for b in own if b not in small])
    for band in bands:
        if band not in families and not publishable(bands[band], k):
            label[band] = ALL_STAFF
    if ALL_STAFF in label.values():
        fold(ALL_STAFF, {g for g in label.values() if g != ALL_STAFF})
    return label, all(publishable(members(g), k) for g in set(label.values()))


def cell_labels(groups: Mapping[str, set[str]], k: int) -> dict[str, str] | None:
    """Rate group -> cell label for one model, month and currency (`groups`: rate group -> its
    people there). Groups of fewer than k people merge into "all staff", which folds in the
    smallest others until it has k; None when the model has fewer than k people."""
    small = {g for g, people in groups.items() if len(people) < k}
    if small and ALL_STAFF in groups:
        small.add(ALL_STAFF)
    label = {g: ALL_STAFF if g in small else g for g in groups}
    pool: set[str] = set().union(*(groups[g] for g in small))
    for other in sorted((g for g in groups if g not in small), key=lambda g: (len(groups[g]), g)):
        if not small or len(pool) >= k:
            break
        label[other] = ALL_STAFF
        pool |= groups[other]
    if small and len(pool) < k:
        return None
    return label
