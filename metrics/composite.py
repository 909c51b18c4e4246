"""Composite evaluations: a scheme's weighted KPIs scored, ranked and tiered, with what pulled each score.

Schemes are defined in metrics/definitions/schemes.yaml (metrics.schemes). No Streamlit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.engine import MetricsEngine
from metrics.evaluate import publish_one
from metrics.periods import Period
from metrics.rankings import (
    STANDING_ORDER,
    STANDINGS,
    Population,
    RankingError,
    rank_change,
    rankable_kpi,
    region_names,
    resolve_period,
)
from metrics.ranks import competition_rank
from metrics.schemes import Scheme, SchemeBook, schemes
from metrics.texts import tr

SCORE_DECIMALS = 1  # composite scores are published (and so ranked) at one decimal: 得分 97.3


@dataclass
class CompositeResult:
    """A scheme evaluated for one period: per-region scores and the per-KPI components behind them."""

    scheme: Scheme
    period: str
    population: str
    scores: pd.DataFrame
    components: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def breakdown(self, region: str) -> pd.DataFrame:
        """Which KPIs pulled `region`'s score up or down, relative to the scored regions' average."""
        c = self.components[self.components["region"] == region].copy()
        if c.empty:
            raise RankingError(f"{region} is not in this evaluation")
        up, down = c["relative_contribution"] > 0, c["relative_contribution"] < 0
        for lang in ("zh", "en"):
            c[f"effect_{lang}"] = np.select([up, down], [tr("effect_up", lang), tr("effect_down", lang)],
                                            tr("effect_flat", lang))
        return c.sort_values("relative_contribution", ascending=False).reset_index(drop=True)


def _tiers(scores: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """Tier index 0, 1, 2… per ranked region (NaN for the others), never cut inside the uncertainty.

    The nominal cut (a share of the ranking, or a score threshold) is only where tiers start from:
    a region below it whose score is within `separation` standard errors of the last region above
    it (share), or of the threshold (score), is not told apart from it and joins the better tier.
    The comparison is always with that fixed boundary, so a continuum does not chain everyone up;
    a tier overrun by the one above it is simply empty. Scores without an error (hand-built rows,
    counts) have se 0, so only the nominal rule applies.
    """
    t = scheme.tiers
    scored = scores["rank"].notna()
    n = int(scored.sum())
    se = scores["score_se"].fillna(0.0) if "score_se" in scores else pd.Series(0.0, index=scores.index)
    z = t.separation
    if t.method == "share":
        pos = (scores["rank"] - 1) / max(n, 1)  # share of regions ahead of this one
        idx = pd.Series(0, index=scores.index)
        for c in t.cuts:
            below = scored & (pos >= c - 1e-12)
            above = scored & ~below
            if above.any() and below.any():
                last = scores.loc[above, "score"].idxmin()  # the nominal boundary's last region above
                gap = scores.loc[last, "score"] - scores["score"]
                within = gap <= z * np.sqrt(se**2 + se[last] ** 2) + 1e-9
                below &= ~within
            idx += below.astype(int)
    else:
        idx = sum(((scores["score"] + z * se) < c - 1e-9).astype(int) for c in t.cuts)
    return pd.Series(idx, index=scores.index).where(scored)


def _value_se(c: pd.DataFrame) -> pd.Series:
    """Standard error of each KPI value from its own sample: binomial for a rate over counted cases.

    Agresti–Coull (two successes and two failures added) so that 4 of 4 cases is not "certain";
    0 where the row has no numerator/denominator or is not a rate (counts carry no sampling error here).
    """
    zero = pd.Series(0.0, index=c.index)
    if not {"numerator", "denominator", "format"} <= set(c.columns):
        return zero
    n = c["denominator"].astype(float)
    rate = (c["format"] == "percent") & n.gt(0) & c["numerator"].notna()
    if "kind" in c:
        rate &= c["kind"] == "ratio"
    p = ((c["value"].astype(float) * n + 2) / (n + 4)).clip(0, 1)
    se = np.sqrt(p * (1 - p) / (n + 4))
    return se.where(rate, 0.0).fillna(0.0)


def score_scheme(rows: pd.DataFrame, scheme: Scheme, regions: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Scores, ranks and tiers from engine.bulk-shaped rows; pure, so it can be checked by hand.

    Needs columns kpi, region, level, value, target, attainment, complete, pending, small_sample,
    direction. A region missing any KPI of the scheme is not scored (逾期未报 / 数据不全) and its
    missing KPIs are named; normalisation statistics use the scored regions only.
    """
    w = scheme.weights
    notes: list[str] = []
    r = rows[rows["kpi"].isin(list(w)) & rows["region"].isin(list(regions))].copy()
    if scheme.normalisation == "attainment":
        no_target = sorted(set(r.loc[r["target"].isna(), "kpi"]))
        if no_target:
            notes.append(f"no target in force for {no_target}: left out and the other weights rescaled")
            r = r[~r["kpi"].isin(no_target)]
            total = sum(v for c, v in w.items() if c not in no_target)
            w = {c: v / total for c, v in w.items() if c not in no_target}
    # a KPI that rests on a handful of cases in most regions this period has no field to race in:
    # it is left out (weights rescaled, said in the notes) rather than setting everyone apart
    has_value = r[r["value"].notna()]
    share_small = has_value["small_sample"].fillna(False).astype(bool).groupby(has_value["kpi"]).mean()
    thin = sorted(share_small[share_small > 0.5].index)
    if thin and len(thin) < len(w):
        notes.append(f"small samples in most regions for {thin}: left out this period and the other weights rescaled")
        r = r[~r["kpi"].isin(thin)]
        total = sum(v for c, v in w.items() if c not in thin)
        w = {c: v / total for c, v in w.items() if c not in thin}
    usable = r["value"].notna() & r["complete"].astype(bool)
    missing = r[~usable].groupby("region")["kpi"].agg(sorted)
    small = r[r["small_sample"].fillna(False).astype(bool)].groupby("region")["kpi"].agg(sorted)
    present = r[usable].groupby("region")["kpi"].nunique()
    scored_regions = set(present[present == len(w)].index)
    c = r[r["region"].isin(scored_regions)].copy()
    up = c["direction"] == "up"
    # the rankings' small-sample rule: a region resting on a handful of cases in any KPI is scored,
    # but ranked separately and kept out of the min/max and mean/sd everyone else is scaled by
    in_stats = ~c["region"].isin(set(small.index))
    g = c["value"].where(in_stats).groupby(c["kpi"])
    se_v = _value_se(c)
    if scheme.normalisation == "attainment":
        norm = c["attainment"].clip(upper=scheme.cap)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_n = np.where(up, se_v / c["target"], c["target"] * se_v / c["value"] ** 2)
        se_n = pd.Series(se_n, index=c.index).where(c["attainment"] - se_n < scheme.cap, 0.0)
    elif scheme.normalisation == "minmax":
        lo, hi = g.transform("min"), g.transform("max")
        span = hi - lo
        raw = np.where(up, c["value"] - lo, hi - c["value"]) / span.where(span > 0)
        norm = pd.Series(raw, index=c.index).where(span > 0, 0.5)
        se_n = (se_v / span.where(span > 0)).fillna(0.0)
    else:
        mu, sd = g.transform("mean"), g.transform(lambda s: s.std(ddof=0))
        z = (c["value"] - mu) / sd.where(sd > 0)
        norm = z.where(up, -z).where(sd > 0, 0.0)
        se_n = (se_v / sd.where(sd > 0)).fillna(0.0)
    c["weight"] = c["kpi"].map(w).astype(float)
    c["normalised"] = norm.astype(float)
    c["normalised_se"] = pd.Series(se_n, index=c.index).astype(float).fillna(0.0)
    c["contribution"] = scheme.scale * c["weight"] * c["normalised"]
    c["peer_mean_contribution"] = c.groupby("kpi")["contribution"].transform("mean")
    c["relative_contribution"] = c["contribution"] - c["peer_mean_contribution"]
    comp_cols = ["region", "kpi", "weight", "value", "target", "attainment", "normalised", "contribution",
                 "peer_mean_contribution", "relative_contribution", "small_sample"]
    components = c[comp_cols].sort_values(["region", "kpi"]).reset_index(drop=True)

    sc = pd.DataFrame({"region": list(regions)})
    total = c.groupby("region")["contribution"].sum()
    sc["score"] = sc["region"].map(total + scheme.offset)
    # the score's standard error from its KPIs' own sampling errors (independent, delta method)
    var = ((scheme.scale * c["weight"] * c["normalised_se"]) ** 2).groupby(c["region"]).sum()
    sc["score_se"] = sc["region"].map(np.sqrt(var))
    level = rows.drop_duplicates("region").set_index("region")["level"]
    pend = rows[rows["kpi"].isin(list(w))].groupby("region")["pending"].any() if "pending" in rows else None
    sc["missing_kpis"] = sc["region"].map(missing).apply(lambda x: x if isinstance(x, list) else [])
    sc["small_sample_kpis"] = sc["region"].map(small).apply(lambda x: x if isinstance(x, list) else [])
    is_county = sc["region"].map(level).eq("county")
    is_pending = sc["region"].map(pend).eq(True) if pend is not None else pd.Series(False, index=sc.index)
    sc.loc[is_pending, "score"] = np.nan  # not yet due: nobody is scored on the early reporters alone
    is_small = sc["small_sample_kpis"].map(bool) & sc["score"].notna()
    sc["standing"] = np.select(
        [is_small, sc["score"].notna(), is_pending, is_county], ["small_sample", "ranked", "pending", "overdue"],
        "incomplete",
    )
    shown = sc["score"].map(lambda x: publish_one(x, "decimal", SCORE_DECIMALS))
    ranked = sc["standing"] == "ranked"
    sc["rank"] = competition_rank(shown, up=True, among=ranked)
    sc["rank_of"] = int(ranked.sum())
    sc["rank_small"] = competition_rank(shown, up=True, among=sc["standing"] == "small_sample")
    tier = _tiers(sc, scheme)
    sc["tier"] = (tier + 1).astype("Int64")
    sc["tier_zh"] = tier.map(lambda i: scheme.tiers.labels_zh[int(i)] if pd.notna(i) else None)
    sc["tier_en"] = tier.map(lambda i: scheme.tiers.labels_en[int(i)] if pd.notna(i) else None)
    return sc, components, notes


def _scheme(scheme: str | Scheme, book: SchemeBook | None) -> Scheme:
    if isinstance(scheme, Scheme):
        return scheme
    try:
        return (book or schemes()).scheme(scheme)
    except KeyError as exc:
        raise RankingError(exc.args[0]) from None


def evaluate_scheme(
    engine: MetricsEngine,
    scheme: str | Scheme,
    period: str | Period,
    population: str | Population | None = None,
    *,
    book: SchemeBook | None = None,
    known_at: dt.datetime | None = None,
) -> CompositeResult:
    """Score, rank (with change since the previous period) and tier every region of the population.

    The population defaults to the scheme's own (counties or cities); it may be narrowed to a city's
    counties or a peer group, in which case min-max and z-score statistics are taken over that group.
    """
    s = _scheme(scheme, book)
    for sk in s.kpis:
        rankable_kpi(engine, sk.kpi)
    p = resolve_period(engine, period)
    pop = Population.parse(population or s.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    cur, components, notes = score_scheme(engine.bulk(p, known_at), s, regions)
    prev, _, _ = score_scheme(engine.bulk(p.previous(), known_at), s, regions)
    cur["prev_rank"] = cur["region"].map(prev.set_index("region")["rank"])
    cur = pd.concat([cur, rank_change(cur["rank"], cur["prev_rank"])], axis=1)
    cur["standing_zh"] = cur["standing"].map(lambda x: STANDINGS[x][0])
    cur["standing_en"] = cur["standing"].map(lambda x: STANDINGS[x][1])
    cur = pd.concat([cur, region_names(engine.geo, cur["region"])], axis=1)
    cur["period"], cur["population"], cur["scheme"] = p.label, pop.key, s.code
    cur["_o"] = cur["standing"].map(STANDING_ORDER)
    cur = cur.sort_values(["_o", "rank", "rank_small", "region"]).drop(columns="_o").reset_index(drop=True)
    for col in ("rank", "prev_rank", "rank_change", "rank_small"):
        cur[col] = cur[col].astype("Int64")
    cols = ["period", "population", "scheme", "region", "name_zh", "name_en", "parent", "rank", "rank_of",
            "prev_rank", "rank_change", "rank_change_zh", "rank_change_en", "score", "score_se", "tier", "tier_zh",
            "tier_en", "standing", "standing_zh", "standing_en", "rank_small", "missing_kpis", "small_sample_kpis"]
    components = components.assign(period=p.label, scheme=s.code)
    return CompositeResult(s, p.label, pop.key, cur[cols], components, notes)
