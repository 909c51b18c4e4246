"""Targets, attainment, red/amber/green status and ranks: all direction-aware, all vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue

STATUS_ORDER = {"green": 0, "amber": 1, "red": 2, "none": 3, "missing": 4, "na": 5}


def attach_targets(df: pd.DataFrame, catalogue: Catalogue, year: int) -> pd.DataFrame:
    """Add target, target_year, target_source, target_carried per KPI for `year`."""
    rows = []
    for k in catalogue.kpis:
        t = k.target_for(year)
        if t is None:
            rows.append((k.code, np.nan, None, None, False))
        else:
            value, target, carried = t
            rows.append((k.code, value, target.year, target.source, carried))
    targets = pd.DataFrame(rows, columns=["kpi", "target", "target_year", "target_source", "target_carried"])
    return df.merge(targets, on="kpi", how="left")


def attainment(value: pd.Series, target: pd.Series, up: pd.Series) -> pd.Series:
    """value ÷ target when higher is better, target ÷ value when lower is better."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(up, value / target, target / value)
    a = pd.Series(a, index=value.index, dtype=float)
    # lower-is-better with a value of zero has met any target
    a = a.mask((~up) & (value == 0) & target.notna(), np.inf)
    return a.replace(-np.inf, np.nan)


def status(df: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """green/amber/red against target; 'none' without a target; 'missing'/'na' pass through."""
    rules = {k.code: catalogue.status_rule(k) for k in catalogue.kpis}
    up = df["direction"] == "up"
    gap = np.where(up, df["target"] - df["value"], df["value"] - df["target"])
    method = df["kpi"].map(lambda c: rules[c].method)
    green_t = df["kpi"].map(lambda c: rules[c].green)
    amber_t = df["kpi"].map(lambda c: rules[c].amber)
    att = df["attainment"]
    with np.errstate(invalid="ignore"):  # NaN compares False; those rows become none/missing below
        att_v, gap_v = att.to_numpy(dtype=float), np.asarray(gap, dtype=float)
        by_att = np.select([att_v >= green_t, att_v >= amber_t], ["green", "amber"], "red")
        by_gap = np.select([gap_v <= 1e-12, gap_v <= amber_t], ["green", "amber"], "red")
    out = pd.Series(np.where(method == "gap", by_gap, by_att), index=df.index, dtype=object)
    out = out.mask(df["target"].isna(), "none")
    out = out.mask(df["value"].isna(), "missing")
    return out


def rank_within(df: pd.DataFrame, mask: pd.Series, by: str | list[str] = "kpi") -> tuple[pd.Series, pd.Series]:
    """Competition ranks (1, 2, 2, 4) within groups of `by`, best first, for rows in `mask`.

    Only rows with a value and complete data take part; others get no rank.
    """
    ok = mask & df["value"].notna() & df["rankable"]
    key = np.where(df["direction"] == "up", -df["value"], df["value"])
    sub = df.loc[ok].assign(_key=key[ok.to_numpy()])
    rank = sub.groupby(by)["_key"].rank(method="min")
    n = sub.groupby(by)["_key"].transform("count")
    return rank.reindex(df.index), n.reindex(df.index)


def kpi_attributes(catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame(
        [(k.code, k.system, k.direction, k.kind, k.format, k.min_denominator) for k in catalogue.kpis],
        columns=["kpi", "system", "direction", "kind", "format", "min_denominator"],
    )

