"""Seeded bootstrap statistics on daily series, shared by the optimisation impact report
(pipeline.impact), the savings mart and the cost forecasts: percentile intervals, the same days
resampled for several columns, the change of a unit cost between two windows and its difference
in differences against controls. Floats throughout: a statistical estimate, never money.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DRAWS = 2000
SEED = 20260215
LEVEL = 0.95


def _draws(n: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """draws x n day indices, with replacement."""
    return rng.integers(0, n, size=(draws, n))


def _interval(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float | None, float | None]:
    """The central `level` percentile interval of bootstrap draws (non-finite draws dropped)."""
    return _interval(np.asarray(values, dtype=float), level)


def resample_days(columns: Sequence[Sequence[float]], *, draws: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Each column's sum over `draws` resamples of the same days (with replacement): one array of
    `draws` sums per column. The days are drawn once for all columns, from `rng`."""
    arrays = [np.asarray(c, dtype=float) for c in columns]
    index = _draws(arrays[0].size, draws, rng)
    return [a[index].sum(axis=1) for a in arrays]


def bootstrap_change(
    before: tuple[Sequence[float], Sequence[float]],
    after: tuple[Sequence[float], Sequence[float]],
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
    relative: bool = True,
) -> tuple[float | None, float | None]:
    """Percentile interval of the change in sum(cost) / sum(requests) between two windows, each
    given as (daily costs, daily requests); days are resampled within each window. `relative`:
    after / before - 1, else after - before (per unit of requests)."""
    if len(before[0]) == 0 or len(after[0]) == 0:
        return None, None
    rng = np.random.default_rng(seed)
    bc, br = resample_days(before, draws=draws, rng=rng)
    ac, ar = resample_days(after, draws=draws, rng=rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = bc / br
        a = ac / ar
        values = a / b - 1.0 if relative else a - b
    return _interval(values, level)


def bootstrap_did(
    treated: tuple[tuple[Sequence[float], Sequence[float]], tuple[Sequence[float], Sequence[float]]],
    control: tuple[tuple[Sequence[float], Sequence[float]], tuple[Sequence[float], Sequence[float]]],
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
) -> tuple[float | None, float | None, float | None]:
    """Difference in differences of unit costs, relative: (treated after / before) / (control
    after / before) - 1, point and percentile interval. Each side is ((costs, requests) before,
    (costs, requests) after) on the same days, so one draw resamples the same days for both."""
    (tb, ta), (cb, ca) = treated, control
    arr = [np.asarray(v, dtype=float) for v in (*tb, *ta, *cb, *ca)]
    tbc, tbr, tac, tar, cbc, cbr, cac, car = arr
    if tbc.size == 0 or tac.size == 0 or tbc.size != cbc.size or tac.size != cac.size:
        return None, None, None

    def did(ib: Any, ia: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (tac[ia].sum(axis=-1) / tar[ia].sum(axis=-1)) / (tbc[ib].sum(axis=-1) / tbr[ib].sum(axis=-1))
            c = (cac[ia].sum(axis=-1) / car[ia].sum(axis=-1)) / (cbc[ib].sum(axis=-1) / cbr[ib].sum(axis=-1))
            return t / c - 1.0

    point = float(did(np.arange(tbc.size), np.arange(tac.size)))
    rng = np.random.default_rng(seed)
    low, high = _interval(did(_draws(tbc.size, draws, rng), _draws(tac.size, draws, rng)), level)
    return (point if np.isfinite(point) else None), low, high
