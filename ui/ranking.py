"""League tables: best and worst counties for a KPI, with rank change since the previous period."""

from __future__ import annotations

import pandas as pd

from metrics.geography import Geography
from ui import fmt


def county_ranking(bulk: pd.DataFrame, prev: pd.DataFrame | None, kpi: str, counties: list[str]) -> pd.DataFrame:
    """Ranked counties of `counties` (provincial rank, best first) with prev_rank and rank_change.

    rank_change > 0 means better than last period (moved up). Counties without a rank
    (not reported, incomplete) are left out: an unreported county is never ranked.
    """
    cols = ["region", "value", "status", "rank", "rank_of"]
    if bulk is None or bulk.empty:
        return pd.DataFrame(columns=[*cols, "prev_rank", "rank_change"])
    cur = bulk[(bulk["kpi"] == kpi) & bulk["region"].isin(counties) & bulk["rank"].notna()][cols]
    if prev is not None and not prev.empty:
        p = prev[(prev["kpi"] == kpi) & (prev["level"] == "county")][["region", "rank"]]
        cur = cur.merge(p.rename(columns={"rank": "prev_rank"}), on="region", how="left")
    else:
        cur = cur.assign(prev_rank=float("nan"))
    cur["rank_change"] = cur["prev_rank"] - cur["rank"]
    return cur.sort_values(["rank", "region"]).reset_index(drop=True)


def best_worst(ranked: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top n and bottom n (worst last); when fewer than 2n, split the list without overlap."""
    if len(ranked) <= 2 * n:
        half = (len(ranked) + 1) // 2
        return ranked.iloc[:half], ranked.iloc[half:]
    return ranked.iloc[:n], ranked.iloc[-n:]


def rows_for_display(df: pd.DataFrame, kpi, geo: Geography, lang: str) -> list[dict]:
    out = []
    for r in df.itertuples(index=False):
        txt, colour = fmt.rank_change(r.prev_rank, r.rank)
        out.append({
            "region": r.region,
            "name": geo.get(r.region).name(lang),
            "rank": int(r.rank),
            "rank_of": int(r.rank_of),
            "value": fmt.number(r.value, kpi, lang),
            "status": r.status,
            "change": txt,
            "change_colour": colour,
        })
    return out
