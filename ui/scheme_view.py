"""A composite evaluation on screen: scores, tiers and what pulled each score, its weights and caption.

The scores come from metrics.composite through the read boundary; this module only shapes them.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics.catalogue import Catalogue
from metrics.composite import CompositeResult
from metrics.geography import Geography
from ui import fmt
from ui.chart_style import AXIS_TEXT, chart_layout
from ui.i18n import t
from ui.rank_frames import Shaped, change_colour, region_link

TIER_COLOURS = ["#22c55e", "#38bdf8", "#f59e0b", "#f97316", "#ef4444"]


def scheme_view(res: CompositeResult, cat: Catalogue, geo: Geography, lang: str, params: dict[str, str],
                level: str) -> tuple[Shaped, Shaped]:
    """Score/rank/tier of each scored region with the KPI that pulled it most up and down; then the unscored."""
    sc = res.scores
    name_col = "name_en" if lang == "en" else "name_zh"
    comp = res.components
    up_most: dict[str, str] = {}
    down_most: dict[str, str] = {}
    for region, g in comp.groupby("region"):
        g = g.sort_values("relative_contribution")
        lo, hi = g.iloc[0], g.iloc[-1]
        if hi["relative_contribution"] > 0:
            up_most[region] = f"{cat.kpi(hi['kpi']).name(lang)} {hi['relative_contribution']:+.1f}"
        if lo["relative_contribution"] < 0:
            down_most[region] = f"{cat.kpi(lo['kpi']).name(lang)} {lo['relative_contribution']:+.1f}"
    with_city = level == "county"
    scored = sc[sc["standing"] == "ranked"]
    out = pd.DataFrame({t("rank", lang): scored["rank"].astype("Int64").to_numpy()})
    out[t("rankings_change", lang)] = scored["rank_change_en" if lang == "en" else "rank_change_zh"].fillna("").to_numpy()
    out[t("region", lang)] = [region_link(r, level, n, params) for r, n in zip(scored["region"], scored[name_col],
                                                                               strict=True)]
    if with_city:
        out[t("rankings_city", lang)] = [geo.get(p).name(lang) if isinstance(p, str) else "" for p in scored["parent"]]
    out[t("rankings_score", lang)] = scored["score"].astype(float).to_numpy()
    # the score's own uncertainty (one standard error): tiers are never cut inside it
    out[t("rankings_score_se", lang)] = [f"±{x:.1f}" if fmt.is_num(x) else "" for x in scored["score_se"]]
    out[t("rankings_tier", lang)] = scored["tier_en" if lang == "en" else "tier_zh"].to_numpy()
    out[t("rankings_pulls_up", lang)] = [up_most.get(r, "") for r in scored["region"]]
    out[t("rankings_pulls_down", lang)] = [down_most.get(r, "") for r in scored["region"]]
    sep = "、" if lang == "zh" else ", "
    out[t("rankings_small_kpis", lang)] = [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) else ""
                                          for x in scored["small_sample_kpis"]]
    colours = {
        t("rankings_change", lang): [change_colour(x) for x in out[t("rankings_change", lang)]],
        t("rankings_tier", lang): [TIER_COLOURS[min(int(x) - 1, len(TIER_COLOURS) - 1)] for x in scored["tier"]],
        t("rankings_pulls_up", lang): [fmt.GOOD] * len(out),
        t("rankings_pulls_down", lang): [fmt.BAD] * len(out),
    }
    rest = sc[sc["standing"] != "ranked"]
    # small samples are scored and ranked among themselves (the rankings' rule), never tiered
    small = rest["standing"] == "small_sample"
    oth = pd.DataFrame({
        t("region", lang): [region_link(r, level, n, params) for r, n in zip(rest["region"], rest[name_col],
                                                                             strict=True)],
        t("rankings_standing", lang): rest["standing_en" if lang == "en" else "standing_zh"].to_numpy(),
        t("rankings_score", lang): [f"{s:.1f}（{t('rank', lang)} {int(r)}）" if lang == "zh" and ok else
                                    f"{s:.1f} (#{int(r)})" if ok else ""
                                    for s, r, ok in zip(rest["score"], rest["rank_small"], small, strict=True)],
        t("rankings_small_kpis", lang): [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) and ok
                                         else "" for x, ok in zip(rest["small_sample_kpis"], small, strict=True)],
        t("rankings_missing_kpis", lang): [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) else ""
                                            for x in rest["missing_kpis"]],
    })
    oth_col = {t("rankings_standing", lang): [fmt.STATUS_COLOURS["missing"]] * len(oth)}
    return Shaped(out, colours, {t("rankings_score", lang): "{:.1f}"}), Shaped(oth, oth_col)


def breakdown_frame(res: CompositeResult, region: str, cat: Catalogue, lang: str) -> pd.DataFrame:
    """The region's per-KPI contributions against the average, KPI names added (chart and download)."""
    b = res.breakdown(region)
    b.insert(2, "kpi_name", [cat.kpi(c).name(lang) for c in b["kpi"]])
    return b


def breakdown_figure(b: pd.DataFrame, cat: Catalogue, lang: str, height: int | None = None) -> go.Figure:
    """Horizontal bars: points above (green) or below (red) the average contribution, per KPI."""
    b = b.sort_values("relative_contribution")
    colours = [fmt.GOOD if v > 0 else fmt.BAD if v < 0 else fmt.FLAT for v in b["relative_contribution"]]
    hover = []
    for r in b.itertuples(index=False):
        k = cat.kpi(r.kpi)
        tgt = fmt.value(r.target, k, lang) if fmt.is_num(r.target) else t("no_target", lang)
        hover.append(
            f"<b>{r.kpi_name}</b><br>{t('value', lang)} {fmt.value(r.value, k, lang)} · {t('target', lang)} {tgt}<br>"
            f"{t('rankings_weight', lang)} {r.weight * 100:.0f}% · {t('rankings_normalised', lang)} {r.normalised:.3f}<br>"
            f"{t('rankings_contribution', lang)} {r.contribution:.2f} · {t('rankings_avg', lang)} "
            f"{r.peer_mean_contribution:.2f}"
        )
    fig = go.Figure(go.Bar(
        x=b["relative_contribution"], y=b["kpi_name"], orientation="h", marker_color=colours,
        text=[f"{v:+.2f}" for v in b["relative_contribution"]], textposition="outside", cliponaxis=False,
        textfont=dict(color=AXIS_TEXT), hovertext=hover, hoverinfo="text",
    ))
    fig.add_vline(x=0, line_color="#94a3b8", line_width=1)
    span = float(b["relative_contribution"].abs().max() or 1.0)
    chart_layout(fig, height or max(220, 34 * len(b) + 70))
    fig.update_layout(showlegend=False, bargap=0.35,
                      xaxis=dict(title=dict(text=t("rankings_rel_axis", lang), font=dict(size=12)),
                                 range=[-span * 1.35, span * 1.35], zeroline=False),
                      yaxis=dict(gridcolor="rgba(0,0,0,0)", automargin=True))
    return fig


def scheme_weights(res: CompositeResult, cat: Catalogue, lang: str) -> pd.DataFrame:
    """The scheme as the file defines it: KPIs, normalised weights and the targets in force."""
    w = res.scheme.weights
    return pd.DataFrame({
        t("kpi", lang): [cat.kpi(c).name(lang) for c in w],
        t("rankings_weight", lang): [f"{v * 100:.1f}%" for v in w.values()],
        t("target", lang): [
            fmt.value(cat.kpi(c).target_for(int(res.period[:4]))[0], cat.kpi(c), lang)
            if cat.kpi(c).target_for(int(res.period[:4])) else t("no_target", lang) for c in w
        ],
    })


def scheme_caption(res: CompositeResult, lang: str) -> str:
    """What the score means: description, normalisation, number of KPIs and how tiers are cut."""
    s = res.scheme
    desc = s.description_en if lang == "en" else s.description_zh
    tiers = s.tiers
    if tiers.method == "share":
        rule = t("rankings_tier_share", lang, cuts=" / ".join(f"{c * 100:.0f}%" for c in tiers.cuts))
    else:
        rule = t("rankings_tier_score", lang, cuts=" / ".join(f"{c:g}" for c in tiers.cuts))
    return t("rankings_scheme_caption", lang, desc=desc, norm=t(f"rankings_norm_{s.normalisation}", lang),
             n=len(s.kpis), tiers=rule)
