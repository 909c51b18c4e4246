"""County comparison: chosen counties against their peers, as indexed trends and a place in the distribution.

No Streamlit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from metrics.engine import EngineError, MetricsEngine
from metrics.periods import Period
from metrics.rankings import Population, RankingError, memo_trend, rankable_kpi, region_names, resolve_period


def resolve_counties(engine: MetricsEngine, counties: str | Sequence[str], on: dt.date) -> list[str]:
    """County codes from codes/names, or every member of a city or peer group (by date)."""
    items = [counties] if isinstance(counties, str) else list(counties)
    out: list[str] = []
    for item in items:
        try:
            code = engine.resolve_region(item)
        except EngineError as exc:
            raise RankingError(str(exc)) from None
        level = engine.geo.get(code).level
        if level == "county":
            out.append(code)
        elif level in ("city", "group"):
            out += Population.parse(code, engine.geo).regions(engine.geo, on)
        else:
            out += engine.geo.counties
    return list(dict.fromkeys(out))


def scoped_peers(peers: Sequence[str], chosen: Sequence[str], allowed: Iterable[str] | None) -> list[str]:
    """The peers a reader with `allowed` regions may compare against (None: all); PermissionError when
    a chosen county lies outside `allowed`."""
    if allowed is None:
        return list(peers)
    ok = frozenset(allowed)
    bad = [c for c in chosen if c not in ok]
    if bad:
        raise PermissionError(f"outside your scope: {', '.join(sorted(bad))}")
    return [r for r in peers if r in ok]


def comparison_trends(
    engine: MetricsEngine,
    counties: str | Sequence[str],
    kpis: Sequence[str],
    end: str | Period,
    months: int = 12,
    peers: str | Population = "counties",
    allowed: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Monthly values per county and KPI, indexed to 100 at the first month, with the peer median.

    index_100 = 100 x value / value in the first month of the window that has a (non-zero) value —
    normally the first month; base_month says which. peer_median is the median over the peer
    population's counties that have a value that month. `allowed` (a scoped reader's regions):
    the peers are only the population's counties inside it, and a chosen county outside it is refused.
    """
    p = resolve_period(engine, end)
    ks = [rankable_kpi(engine, k) for k in kpis]
    chosen = resolve_counties(engine, counties, p.end)
    pop = Population.parse(peers, engine.geo)
    peer_regions = scoped_peers(pop.regions(engine.geo, p.end), chosen, allowed)
    tr = memo_trend(engine, [k.code for k in ks], sorted(set(chosen) | set(peer_regions)), p, months)
    tr = tr.assign(month=pd.to_datetime(tr["month"]).dt.strftime("%Y-%m"))
    med = tr[tr["region"].isin(peer_regions)].groupby(["kpi", "month"])["value"].median().rename("peer_median")
    df = tr[tr["region"].isin(chosen)].sort_values(["kpi", "region", "month"]).copy()
    ok = df["value"].notna() & (df["value"] != 0)
    first = df[ok].groupby(["kpi", "region"]).first()
    base = df.set_index(["kpi", "region"]).index.map(first["value"].to_dict().get)
    df["base_month"] = df.set_index(["kpi", "region"]).index.map(first["month"].to_dict().get)
    df["index_100"] = 100 * df["value"] / pd.Series(base, index=df.index, dtype=float)
    df = df.merge(med.reset_index(), on=["kpi", "month"], how="left")
    df["kpi_name_zh"] = df["kpi"].map(lambda c: engine.catalogue.kpi(c).name_zh)
    df = pd.concat([df, region_names(engine.geo, df["region"])], axis=1)
    df["peers"] = pop.key
    return df[["kpi", "kpi_name_zh", "region", "name_zh", "name_en", "month", "value", "index_100", "base_month",
               "peer_median", "peers"]].reset_index(drop=True)


def peer_position(
    engine: MetricsEngine,
    counties: str | Sequence[str],
    kpis: Sequence[str],
    period: str | Period,
    peers: str | Population = "counties",
    known_at: dt.datetime | None = None,
    allowed: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Each county's place in its peers' distribution per KPI: median, percentile, z-score.

    The distribution is over the peer population's counties with a complete, reported value
    (nothing imputed). percentile = 100 x (peers below + half the peers equal) / peers (mid-rank,
    on the raw value: 100 is the top of the distribution). z_score = (value - peer mean) / peer sd
    (population sd); z_better flips the sign for lower-is-better KPIs so positive is always better.
    `allowed` (a scoped reader's regions): the statistics are over the in-scope peers only (see
    comparison_trends), so no figure of a county outside the scope enters them.
    """
    p = resolve_period(engine, period)
    ks = [rankable_kpi(engine, k) for k in kpis]
    chosen = resolve_counties(engine, counties, p.end)
    pop = Population.parse(peers, engine.geo)
    peer_regions = scoped_peers(pop.regions(engine.geo, p.end), chosen, allowed)
    b = engine.bulk(p, known_at)
    rows = []
    for k in ks:
        sub = b[b["kpi"] == k.code].set_index("region")
        pv = sub.loc[sub.index.isin(peer_regions)]
        vals = pv.loc[pv["value"].notna() & pv["complete"].astype(bool), "value"].to_numpy(dtype=float)
        n = len(vals)
        mean = float(vals.mean()) if n else np.nan
        sd = float(vals.std(ddof=0)) if n else np.nan
        med = float(np.median(vals)) if n else np.nan
        for c in chosen:
            r = sub.loc[c]
            ok = pd.notna(r["value"]) and bool(r["complete"])
            v = float(r["value"]) if ok else np.nan
            pct = 100 * ((vals < v).sum() + 0.5 * (vals == v).sum()) / n if ok and n else np.nan
            z = (v - mean) / sd if ok and sd > 0 else np.nan
            rows.append({
                "kpi": k.code, "kpi_name_zh": k.name_zh, "region": c, "value": v, "complete": bool(r["complete"]),
                "small_sample": bool(r["small_sample"]), "direction": k.direction, "peer_n": n, "peer_median": med,
                "peer_mean": mean, "peer_sd": sd, "peer_min": float(vals.min()) if n else np.nan,
                "peer_max": float(vals.max()) if n else np.nan, "percentile": pct, "z_score": z,
                "z_better": z if k.direction == "up" else -z,
            })
    df = pd.DataFrame(rows)
    df = pd.concat([df, region_names(engine.geo, df["region"])], axis=1)
    df["period"], df["peers"] = p.label, pop.key
    first = ["period", "peers", "kpi", "kpi_name_zh", "region", "name_zh", "name_en"]
    return df[first + [c for c in df.columns if c not in first and c != "parent"]]
