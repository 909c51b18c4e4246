"""Ranks: the one rule every table that ranks regions or apps follows.

Competition ranking (1, 2, 2, 4), best first, direction-aware, on the figure as published
(`metrics.formats.publish`): what is ranked is what the screen shows, so two regions that both show
93.0% share a rank wherever they are ranked — the engine's bulk ranks (the overview's best and
worst five, the profile), the league tables, composite scores, red/black lists, townships, the
major apps and the problem lists. The key also drops float noise left after that rounding, so
equal figures reached by different sums (0.1 + 0.2 and 0.3) tie.

Who takes part is the caller's fairness rule, passed as `among`: a region without a value, with
incomplete data or resting on a small sample gets no rank and is not counted in `rank_of`; small
samples are ranked among themselves by a second call. `by` ranks within groups (each KPI, each
county's townships). No Streamlit, no database.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from metrics.formats import publish

Groups = pd.Series | Sequence[pd.Series] | None


def _series(values) -> pd.Series:
    return values.astype(float) if isinstance(values, pd.Series) else pd.Series(values, dtype=float)


def rank_key(values, up: bool | pd.Series | np.ndarray = True) -> pd.Series:
    """Sort key where smaller is better, on values already published (or scores already rounded).

    The last 12 decimals are dropped so that equal figures reached by different sums (0.1 + 0.2
    and 0.3) tie: the published rounding fixes what is shown, this fixes float noise left after it.
    `up` is the direction: one for all values, or one per value (rows of several KPIs).
    """
    v = _series(values)
    up = up.to_numpy() if isinstance(up, pd.Series) else up
    return pd.Series(np.round(np.where(up, -v, v), 12), index=v.index)


def _key(values, up, among) -> pd.Series:
    key = rank_key(values, up)
    if among is not None:
        key = key.where(np.asarray(among, dtype=bool))
    return key


def competition_rank(values, up: bool | pd.Series | np.ndarray = True, *, among=None, by: Groups = None) -> pd.Series:
    """Competition ranks (1, 2, 2, 4), best first, of published `values`; NaN for values that are
    missing or not `among` the ranked. With `by`, ranks restart in each group."""
    key = _key(values, up, among)
    if by is None:
        return key.rank(method="min", na_option="keep")
    return key.groupby(by).rank(method="min")


def ranked_count(values, *, among=None, by: Groups = None) -> pd.Series:
    """How many are ranked (the "of" in "3 of 90") beside each ranked value, NaN beside the others."""
    ok = _key(values, True, among).notna()
    n = ok.sum() if by is None else ok.groupby(by).transform("sum")
    return pd.Series(n, index=ok.index, dtype=float).where(ok)


def rank_published(values, fmt: str, decimals: int, up: bool = True, *, among=None) -> pd.Series:
    """Competition ranks of raw values, each first rounded as the screen prints it (`fmt`, `decimals`)."""
    return competition_rank(publish(values, fmt, decimals), up, among=among)
