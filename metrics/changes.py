"""环比 and 同比 of a figure that is short of reporters, on a like-for-like basis.

A city or province figure with counties missing is a partial sum; set against last month's whole
sum it shows a fall that is only the absent counties. Withholding the change is safe but blanks the
overview whenever one county is late. Instead the change is taken over the counties that reported in
both periods — this period's figure and the earlier one over the same counties, each by the KPI's
own rule (Σnumerator ÷ Σdenominator for a rate, Σ for a count) — and says how many counties it
rests on. Daily means are summed as county means, which equals the group's mean of daily sums when
the counties reported every day (a complete county's month). Growth KPIs (a year-on-year rate
already) keep theirs withheld.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue


def _pct(cat: Catalogue) -> dict[str, bool]:
    return {k.code: k.format == "percent" for k in cat.kpis}


def like_for_like(
    df: pd.DataFrame, cur: pd.DataFrame, earlier: pd.DataFrame, members: pd.DataFrame, counties: list[str],
    cat: Catalogue,
) -> pd.DataFrame:
    """(kpi, region, change, n) for every incomplete group row of `df` that has a like-for-like change.

    `df` has kpi, region, complete; `cur` and `earlier` the per-region KPI frames (kpi, region, value,
    numerator, denominator) of this period and of the period compared with; `members` the group
    memberships (group_code, member_code) at the period's end.
    """
    out_cols = ["kpi", "region", "change", "n"]
    kinds = {k.code: k.kind for k in cat.kpis}
    todo = df.loc[~df["complete"].astype(bool), ["kpi", "region"]]
    todo = todo[todo["kpi"].map(kinds).isin(["ratio", "simple"])]
    if todo.empty:
        return pd.DataFrame(columns=out_cols)
    county_set = set(counties)
    mem = members[members["member_code"].isin(county_set) & (members["group_code"] != members["member_code"])]
    leaf = ["kpi", "region", "value", "numerator", "denominator"]
    both = cur[cur["region"].isin(county_set)][leaf].merge(
        earlier[earlier["region"].isin(county_set)][leaf], on=["kpi", "region"], suffixes=("", "_e"))
    ratio = both["kpi"].map(kinds) == "ratio"
    # a county counts where it has a figure in both periods (a rate: both sides of both periods)
    ok = np.where(ratio, both[["numerator", "denominator", "numerator_e", "denominator_e"]].notna().all(axis=1),
                  both[["value", "value_e"]].notna().all(axis=1))
    both = both[ok]
    rows = todo.merge(mem, left_on="region", right_on="group_code").merge(
        both, left_on=["kpi", "member_code"], right_on=["kpi", "region"], suffixes=("", "_c"))
    if rows.empty:
        return pd.DataFrame(columns=out_cols)
    rows["num"] = np.where(rows["kpi"].map(kinds) == "ratio", rows["numerator"], rows["value"])
    rows["num_e"] = np.where(rows["kpi"].map(kinds) == "ratio", rows["numerator_e"], rows["value_e"])
    g = rows.groupby(["kpi", "region"]).agg(num=("num", "sum"), den=("denominator", "sum"), num_e=("num_e", "sum"),
                                            den_e=("denominator_e", "sum"), n=("member_code", "size")).reset_index()
    is_ratio = g["kpi"].map(kinds) == "ratio"
    with np.errstate(divide="ignore", invalid="ignore"):
        now = np.where(is_ratio, g["num"] / g["den"], g["num"])
        then = np.where(is_ratio, g["num_e"] / g["den_e"], g["num_e"])
        pct = g["kpi"].map(_pct(cat)).to_numpy(dtype=bool)
        change = np.where(pct, now - then, now / then - 1)
    g["change"] = pd.Series(change, index=g.index).replace([np.inf, -np.inf], np.nan)
    return g.loc[g["change"].notna(), out_cols].reset_index(drop=True)
