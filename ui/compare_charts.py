"""The county comparison's charts and tables: indexed trends, percentile profile, peer distribution, z-scores.

The figures come from metrics.comparison through the read boundary; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.catalogue import Catalogue
from metrics.geography import Geography
from ui import fmt
from ui.chart_style import AXIS_TEXT, GRID, MEDIAN, PALETTE, SYMBOLS, chart_layout, legend_rows
from ui.i18n import t
from ui.rank_frames import Shaped, scale


def trends_indexed(tr: pd.DataFrame) -> pd.DataFrame:
    """Adds peer_median_index: the peer median indexed to 100 at each county's base month."""
    df = tr.copy()
    base = df[df["month"] == df["base_month"]].set_index(["kpi", "region"])["peer_median"]
    b = df.set_index(["kpi", "region"]).index.map(base.to_dict().get)
    df["peer_median_index"] = 100 * df["peer_median"] / pd.Series(b, index=df.index, dtype=float)
    return df


FOCUS_MAX = 6  # lines drawn in colour; beyond this a comparison is read as a few against the rest
OTHER_LINE = "#64748b"  # the counties not in focus: thin grey, behind
FOCUS_WIDTH, OTHER_WIDTH, MEDIAN_WIDTH = 2.5, 1.0, 4.5
LEGEND_ROW_PX, AXIS_PX = 22, 46  # a legend row's height; the month labels under the axis


def focus_of(counties: Sequence[str], focus: Sequence[str] | None = None) -> list[str]:
    """The counties drawn in colour: `focus` (those among `counties`), else the first FOCUS_MAX chosen."""
    if focus:
        return [c for c in counties if c in set(focus)][:FOCUS_MAX] or list(counties[:FOCUS_MAX])
    return list(counties[:FOCUS_MAX])


def colours_for(counties: Sequence[str], focus: Sequence[str] | None = None) -> dict[str, str]:
    """One colour per county in focus, by selection order, the same on every chart of the workspace;
    the others grey."""
    mine = focus_of(counties, focus)
    return {c: PALETTE[mine.index(c) % len(PALETTE)] if c in mine else OTHER_LINE for c in counties}


def _legend_below(fig: go.Figure, n_entries: int, per_row: int) -> int:
    """A horizontal legend pinned to the bottom of the figure, under the month labels (never over the
    axis); returns the bottom margin it needs (the figure grows by it)."""
    bottom = AXIS_PX + LEGEND_ROW_PX * legend_rows(n_entries, per_row)
    fig.update_layout(legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0,
                                  font=dict(size=12)), margin=dict(b=bottom))
    return bottom


def _label_end(fig: go.Figure, x: object, y: object, text: str, **where: object) -> None:
    """A direct label at a line's last point (the median's name, where the eye ends)."""
    if x is None or y is None or (isinstance(y, float) and np.isnan(y)):
        return
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, xanchor="left", xshift=6, yanchor="middle",
                       font=dict(color=MEDIAN, size=12), **where)


def _grey(df: pd.DataFrame, others: Sequence[str], col: str, scale_by: float, geo: Geography,
          lang: str) -> tuple[list, list, list]:
    """The counties out of focus as ONE line trace: each county's months, a gap (None) between counties;
    a trace per county made a 25-county comparison 100 traces, most of the redraw after adding a group."""
    xs: list = []
    ys: list = []
    names: list = []
    for c in others:
        d = df[df["region"] == c].sort_values("month")
        if d.empty:
            continue
        name = geo.get(c).name(lang)
        xs += [*d["month"], None]
        ys += [*(None if pd.isna(v) else v * scale_by for v in d[col]), None]
        names += [name] * len(d) + [None]
    return xs, ys, names


def _last(d: pd.DataFrame, col: str) -> tuple[object, object]:
    d = d[d[col].notna()]
    return (d["month"].iloc[-1], float(d[col].iloc[-1])) if len(d) else (None, None)


def trend_figure(tr: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
                 lang: str, indexed: bool, peers: str, focus: Sequence[str] | None = None) -> go.Figure:
    """Indexed: every county x KPI on one panel (100 = first month). Absolute: one panel per KPI
    (units differ), sharing the month axis. The counties in focus in colour, the rest thin grey behind
    (one legend entry), the peer median thick and named at its end; the legend under the axis."""
    mine = focus_of(counties, focus)
    colour = colours_for(counties, mine)
    others = [c for c in counties if c not in mine]
    symbol = {k: SYMBOLS[i % len(SYMBOLS)] for i, k in enumerate(kpis)}
    med_label = t("rankings_peer_median", lang, peers=peers)
    other_label = t("rankings_cmp_others", lang, n=len(others))
    hover = "%{x}: %{y:,.1f}<extra>%{fullData.name}</extra>"

    def line(c: str) -> dict:
        return dict(color=colour[c], width=FOCUS_WIDTH if c in mine else OTHER_WIDTH)

    grey_hover = "%{text} · %{x}: %{y:,.1f}<extra></extra>"
    if indexed:
        df = trends_indexed(tr)
        fig = go.Figure()
        for j, k in enumerate(kpis):
            if others:
                x, y, names = _grey(df[df["kpi"] == k], others, "index_100", 1.0, geo, lang)
                fig.add_trace(go.Scatter(x=x, y=y, text=names, mode="lines", name=other_label, legendgroup="others",
                                         showlegend=j == 0, line=dict(color=OTHER_LINE, width=OTHER_WIDTH),
                                         opacity=0.55, hovertemplate=f"{cat.kpi(k).name(lang)} · {grey_hover}"))
        for c in mine:
            for j, k in enumerate(kpis):
                d = df[(df["kpi"] == k) & (df["region"] == c)].sort_values("month")
                fig.add_trace(go.Scatter(
                    x=d["month"], y=d["index_100"], mode="lines+markers", legendgroup=c, showlegend=j == 0,
                    name=geo.get(c).name(lang), line=line(c), marker=dict(symbol=symbol[k], size=7),
                    hovertemplate=f"{cat.kpi(k).name(lang)} · {hover}",
                ))
        for k in kpis:
            m = df[df["kpi"] == k].drop_duplicates("month").sort_values("month")
            name = f"{med_label} · {cat.kpi(k).name(lang)}" if len(kpis) > 1 else med_label
            fig.add_trace(go.Scatter(
                x=m["month"], y=m["peer_median_index"], mode="lines+markers", legendgroup="median", name=name,
                line=dict(color=MEDIAN, width=MEDIAN_WIDTH), marker=dict(symbol=symbol[k], size=8),
                hovertemplate=hover,
            ))
            if len(kpis) == 1:  # one median: named at its end (several are told apart by the legend)
                _label_end(fig, *_last(m, "peer_median_index"), text=name)
        if len(kpis) > 1:  # a key for the markers: which symbol is which KPI
            for k in kpis:
                fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=cat.kpi(k).name(lang),
                                         marker=dict(symbol=symbol[k], size=8, color="#94a3b8"),
                                         legendgroup="kpis", hoverinfo="skip"))
        fig.add_hline(y=100, line_color="#64748b", line_width=1)
        n_legend = len(mine) + bool(others) + 2 * len(kpis)
        chart_layout(fig, 400)
        fig.update_layout(height=400 + _legend_below(fig, n_legend, 5), margin=dict(r=140 if len(kpis) == 1 else 20),
                          yaxis=dict(title=dict(text=t("rankings_index_axis", lang), font=dict(size=12))),
                          xaxis=dict(tickformat="%Y-%m"))
        return fig
    fig = make_subplots(rows=len(kpis), cols=1, shared_xaxes=True, vertical_spacing=0.3 / len(kpis) if len(kpis) > 1
                        else 0, subplot_titles=[cat.kpi(k).name(lang) + (f" ({cat.kpi(k).unit(lang)})"
                                                                         if cat.kpi(k).format != "percent" else "")
                                                for k in kpis])
    fig.update_annotations(font=dict(size=13, color=AXIS_TEXT), x=0, xanchor="left")  # the panel titles
    for i, k in enumerate(kpis, start=1):
        kk = cat.kpi(k)
        s = scale(kk)
        if others:
            x, y, names = _grey(tr[tr["kpi"] == k], others, "value", s, geo, lang)
            fig.add_trace(go.Scatter(x=x, y=y, text=names, mode="lines", name=other_label, legendgroup="others",
                                     showlegend=i == 1, line=dict(color=OTHER_LINE, width=OTHER_WIDTH), opacity=0.55,
                                     hovertemplate=grey_hover), row=i, col=1)
        for c in mine:
            d = tr[(tr["kpi"] == k) & (tr["region"] == c)].sort_values("month")
            fig.add_trace(go.Scatter(
                x=d["month"], y=d["value"] * s, mode="lines+markers", name=geo.get(c).name(lang), line=line(c),
                marker=dict(size=6), legendgroup=c, showlegend=i == 1, hovertemplate=hover,
            ), row=i, col=1)
        m = tr[tr["kpi"] == k].drop_duplicates("month").sort_values("month").assign(
            median_shown=lambda f, s=s: f["peer_median"] * s)
        fig.add_trace(go.Scatter(
            x=m["month"], y=m["median_shown"], mode="lines", name=med_label,
            line=dict(color=MEDIAN, width=MEDIAN_WIDTH), legendgroup="median", showlegend=i == 1,
            hovertemplate=hover,
        ), row=i, col=1)
        _label_end(fig, *_last(m, "median_shown"), text=med_label, row=i, col=1)
        fig.update_yaxes(ticksuffix="%" if kk.format == "percent" else "", row=i, col=1)
    fig.update_xaxes(tickformat="%Y-%m")
    chart_layout(fig, 200 * len(kpis) + 60)
    fig.update_layout(height=200 * len(kpis) + 60 + _legend_below(fig, len(mine) + bool(others) + 1, 6),
                      margin=dict(t=30, r=140))
    return fig


def better_percentile(pos: pd.DataFrame) -> pd.Series:
    """Percentile with 100 = best whatever the KPI's direction (the profile's common scale)."""
    return pos["percentile"].where(pos["direction"] == "up", 100 - pos["percentile"])


RADAR_MAX_COUNTIES = 6


def profile_figure(pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
                   lang: str, peers: str, focus: Sequence[str] | None = None) -> go.Figure:
    """Each county's direction-aware percentile per KPI against the peer median (50): a radar for three
    to eight KPIs and a few counties, otherwise one dot row per KPI (readable with a whole peer group)."""
    colour = colours_for(counties, focus)
    df = pos.assign(better=better_percentile(pos))
    names = [cat.kpi(k).name(lang) for k in kpis]
    med = t("rankings_peer_median", lang, peers=peers)
    fig = go.Figure()
    if 3 <= len(kpis) <= 8 and len(counties) <= RADAR_MAX_COUNTIES:
        theta = names + names[:1]
        fig.add_trace(go.Scatterpolar(r=[50] * len(theta), theta=theta, mode="lines", name=med,
                                      line=dict(color=MEDIAN, dash="dash", width=1.6), hoverinfo="skip"))
        for c in counties:
            d = df[df["region"] == c].set_index("kpi").reindex(list(kpis))
            r = d["better"].tolist()
            fig.add_trace(go.Scatterpolar(
                r=r + r[:1], theta=theta, mode="lines+markers", name=geo.get(c).name(lang),
                line=dict(color=colour[c], width=2), fill="toself", opacity=0.8,
                hovertemplate="%{theta}: P%{r:.0f}<extra>%{fullData.name}</extra>",
            ))
        chart_layout(fig, 460)
        fig.update_layout(
            polar=dict(bgcolor="rgba(0,0,0,0)",
                       radialaxis=dict(range=[0, 100], tickvals=[25, 50, 75, 100], gridcolor=GRID, linecolor=GRID,
                                       tickfont=dict(size=10, color="#94a3b8"), angle=180 / len(kpis), tickangle=0),
                       angularaxis=dict(gridcolor=GRID, linecolor=GRID, tickfont=dict(size=12, color=AXIS_TEXT))),
            legend=dict(orientation="h", y=-0.06, yanchor="top", x=0), margin=dict(l=80, r=80, t=30, b=10),
        )
        return fig
    rng = np.random.default_rng(1)
    for c in counties:
        d = df[df["region"] == c].set_index("kpi").reindex(list(kpis))
        fig.add_trace(go.Scatter(
            x=d["better"], y=[i + rng.uniform(-0.12, 0.12) for i in range(len(kpis))], mode="markers",
            name=geo.get(c).name(lang), marker=dict(color=colour[c], size=12, symbol="diamond",
                                                    line=dict(color="#0b1426", width=1)),
            customdata=names, hovertemplate="%{customdata}: P%{x:.0f}<extra>%{fullData.name}</extra>",
        ))
    fig.add_vline(x=50, line_dash="dash", line_color=MEDIAN, annotation_text=med, annotation_font_color=MEDIAN,
                  annotation_position="top")
    chart_layout(fig, 90 * len(kpis) + 110 + 22 * legend_rows(len(counties), 6))
    fig.update_layout(  # percentile ticks read P0..P100; the caption says 100 = best
        xaxis=dict(range=[-2, 102], tickvals=[0, 25, 50, 75, 100], tickprefix="P"),
        yaxis=dict(tickvals=list(range(len(kpis))), ticktext=names, range=[len(kpis) - 0.5, -0.5], automargin=True),
        legend=dict(orientation="h", y=-0.12 if len(kpis) < 3 else -0.06, yanchor="top", x=0), margin=dict(t=40),
    )
    return fig


def peer_values(bulk: pd.DataFrame, kpis: Sequence[str], peers: Sequence[str]) -> pd.DataFrame:
    """The peer distribution: complete, reported values only (nothing imputed), as in peer_position."""
    b = bulk[bulk["kpi"].isin(list(kpis)) & bulk["region"].isin(list(peers))]
    b = b[b["value"].notna() & b["complete"].astype(bool)]
    return b[["kpi", "region", "value"]].reset_index(drop=True)


def distribution_figure(values: pd.DataFrame, pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str],
                        cat: Catalogue, geo: Geography, lang: str, peers: str,
                        focus: Sequence[str] | None = None) -> go.Figure:
    """One row per KPI: the peers as a box and grey points, the chosen counties as large markers (those
    in focus coloured, the rest grey)."""
    mine = focus_of(counties, focus)
    colour = colours_for(counties, mine)
    fig = make_subplots(rows=len(kpis), cols=1, vertical_spacing=0.45 / len(kpis) if len(kpis) > 1 else 0,
                        subplot_titles=[cat.kpi(k).name(lang) + ("" if cat.kpi(k).direction == "up"
                                                                 else t("rankings_lower_better", lang))
                                        for k in kpis])
    rng = np.random.default_rng(0)
    for i, k in enumerate(kpis, start=1):
        kk = cat.kpi(k)
        s = scale(kk)
        v = values[values["kpi"] == k]
        fig.add_trace(go.Box(
            x=v["value"] * s, y=[0.0] * len(v), orientation="h", name=peers, boxpoints=False,
            line=dict(color="#64748b"), fillcolor="rgba(100,116,139,0.18)", showlegend=False, hoverinfo="skip",
            width=0.9,
        ), row=i, col=1)
        fig.add_trace(go.Scatter(
            x=v["value"] * s, y=rng.uniform(-0.3, 0.3, len(v)), mode="markers", showlegend=False,
            text=[geo.get(r).name(lang) for r in v["region"]], marker=dict(color="#94a3b8", size=5, opacity=0.7),
            name=peers, hovertemplate="%{text}: %{x:,.1f}<extra></extra>",
        ), row=i, col=1)
        here = pos[(pos["kpi"] == k) & pos["value"].notna()].set_index("region")
        rest = [c for c in counties if c in here.index and c not in mine]
        if rest:  # the chosen counties out of focus: one grey trace per row (hover names them)
            fig.add_trace(go.Scatter(
                x=[float(here.at[c, "value"]) * s for c in rest], y=[0.0] * len(rest), mode="markers",
                name=t("rankings_cmp_others", lang, n=len(rest)), legendgroup="others", showlegend=False,
                text=[f"{geo.get(c).name(lang)} · P{here.at[c, 'percentile']:.0f}" for c in rest],
                marker=dict(color=OTHER_LINE, size=11, symbol="diamond", line=dict(color="#0b1426", width=1)),
                hovertemplate="%{text}: %{x:,.1f}<extra></extra>",
            ), row=i, col=1)
        for c in [c for c in mine if c in here.index]:
            pct = here.at[c, "percentile"]
            fig.add_trace(go.Scatter(
                x=[float(here.at[c, "value"]) * s], y=[0.0], mode="markers", name=geo.get(c).name(lang),
                marker=dict(color=colour[c], size=15, symbol="diamond", line=dict(color="#0b1426", width=1.5)),
                legendgroup=c, showlegend=i == 1,
                hovertemplate=f"%{{fullData.name}}: %{{x:,.1f}} · P{pct:.0f}<extra></extra>",
            ), row=i, col=1)
        fig.update_xaxes(ticksuffix="%" if kk.format == "percent" else "", row=i, col=1)
        fig.update_yaxes(visible=False, range=[-0.6, 0.6], row=i, col=1)
    chart_layout(fig, 120 * len(kpis) + 50 + 22 * legend_rows(len(mine), 7))
    fig.update_annotations(font=dict(size=13, color=AXIS_TEXT), x=0, xanchor="left")
    fig.update_layout(legend=dict(orientation="h", y=-0.06 if len(kpis) > 2 else -0.15, yanchor="top", x=0),
                      margin=dict(t=30))
    return fig


def z_table(pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
            lang: str) -> Shaped:
    """Counties x KPIs of z-scores against the peers, signed so that positive is always better."""
    wide = pos.pivot_table(index="region", columns="kpi", values="z_better", dropna=False).reindex(
        index=list(counties), columns=list(kpis))
    out = pd.DataFrame({t("region", lang): [geo.get(c).name(lang) for c in counties]})
    colours: dict[str, list[str]] = {}

    def paint(vals: np.ndarray) -> list[str]:
        return [fmt.FLAT if np.isnan(v) else fmt.GOOD if v >= 0.5 else fmt.BAD if v <= -0.5 else AXIS_TEXT
                for v in vals]

    for k in kpis:
        col = cat.kpi(k).name(lang)
        vals = np.round(wide[k].astype(float).to_numpy(), 2) + 0.0  # no "-0.00"
        out[col], colours[col] = vals, paint(vals)
    col = t("rankings_z_mean", lang)
    mean = np.round(wide.mean(axis=1, skipna=True).to_numpy(dtype=float), 2) + 0.0
    out[col], colours[col] = mean, paint(mean)
    return Shaped(out, colours, {c: "{:+.2f}" for c in out.columns[1:]})
