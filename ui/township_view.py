"""The county profile's township section (乡镇街道): the grassroots KPIs per township.

Shown only when the county has township figures (the township demo, or imported township rows):
a table and a bar chart of the county's townships for one KPI (value, Σnumerator/Σdenominator,
target, status, rank in the county and among all townships), a click on a row or a bar opens the
township's 12-month trend next to its county (`?township=330102001`), and a breadcrumb leads back
to the county. A scoped user sees the townships of the counties in their scope only: a township
parameter outside it is refused and logged, like any region parameter.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import auth, data, downloads, fmt, maps, urlstate
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.shell import Ctx

PARAM = "township"


def has_figures(period: str) -> bool:
    """Whether the database holds township figures for the period (the township demo is opt-in)."""
    return data.reader().has_townships(period)


def county_townships(ctx: Ctx, county: str) -> pd.DataFrame:
    """The county's township rows the signed-in user may read (empty when there are no figures)."""
    rows = data.reader().townships(ctx.period, county)
    return rows if rows["value"].notna().any() else rows.iloc[0:0]


def _set_township(code: str | None) -> None:
    if code is None:
        st.query_params.pop(PARAM, None)
    elif st.query_params.get(PARAM) != code:
        st.query_params[PARAM] = code


def _on_row(key: str, codes: list[str]) -> None:
    rows = (st.session_state.get(key) or {}).get("selection", {}).get("rows", [])
    if rows and rows[0] < len(codes):
        _set_township(codes[rows[0]])


def _on_bar(key: str) -> None:
    pts = (st.session_state.get(key) or {}).get("selection", {}).get("points", [])
    code = pts[0].get("customdata") if pts else None
    if isinstance(code, list):
        code = code[0] if code else None
    if isinstance(code, str):
        _set_township(code)


def _picked(ctx: Ctx, county: str) -> str | None:
    """The `township` URL parameter, when it is one of this county's townships in scope."""
    code = st.query_params.get(PARAM)
    if not code:
        return None
    geo = data.engine().geo
    if code not in geo.townships or geo.townships[code].parent_code != county:
        st.warning(t("township_not_here", ctx.lang, code=code, county=geo.get(county).name(ctx.lang)))
        _set_township(None)
        return None
    return code


def _refuse(ctx: Ctx, code: str) -> None:
    """A township of a county outside the scope: refused, dropped from the URL and logged."""
    from auth import audit

    u = auth.current_quiet()
    eng = data.engine()
    audit.record(eng.store, u.username if u else None, "denied", f"{PARAM}={code}", "url parameter")
    scope = t("province_scope", ctx.lang) if u is None else auth.scope_name(u.scope_code, ctx.lang)
    st.error(t("township_refused", ctx.lang, what=eng.geo.get(code).name(ctx.lang), scope=scope),
             icon=":material/block:")
    _set_township(None)


def township_table(rows: pd.DataFrame, ctx: Ctx, kpi: str) -> pd.DataFrame:
    """One row per township, best first (ranked, then small samples, then not reported)."""
    eng = data.engine()
    geo, k, L = eng.geo, eng.catalogue.kpi(kpi), ctx.lang
    r = rows[rows["kpi"] == kpi].copy()
    r["_o"] = r["rank_county"].isna().astype(int) + r["small_sample"].astype(int)
    r = r.sort_values(["_o", "rank_county", "value", "region"], ascending=[True, True, k.direction != "up", True])

    def rank(a: object, b: object) -> str:
        return f"{int(a)}/{int(b)}" if fmt.is_num(a) else "—"

    return pd.DataFrame({
        "region": r["region"].tolist(),
        "status": r["status"].tolist(),
        t("township_name", L): [geo.get(c).name(L) for c in r["region"]],
        t("township_type", L): [t(f"township_type_{geo.get(c).type_zh}", L) for c in r["region"]],
        t("township_population", L): [f"{geo.get(c).population:,}" for c in r["region"]],
        t("value", L): [fmt.value(v, k, L, short=False) for v in r["value"]],
        t("township_num_den", L): [f"{n:,.0f} / {d:,.0f}" if fmt.is_num(d) else "—"
                                   for n, d in zip(r["numerator"], r["denominator"], strict=True)],
        t("target", L): [fmt.value(v, k, L, short=False) if fmt.is_num(v) else t("no_target", L) for v in r["target"]],
        t("status", L): "",
        t("township_rank_county", L): [rank(a, b) for a, b in zip(r["rank_county"], r["rank_county_of"], strict=True)],
        t("township_rank_province", L): [rank(a, b) for a, b in zip(r["rank"], r["rank_of"], strict=True)],
        t("change_mom", L): [fmt.change(v, k, L) for v in r["change_prev"]],
        t("township_small", L): ["●" if s else "" for s in r["small_sample"]],
    })


def _bar(table: pd.DataFrame, rows: pd.DataFrame, ctx: Ctx, kpi: str, picked: str | None) -> go.Figure:
    eng = data.engine()
    k = eng.catalogue.kpi(kpi)
    r = rows[rows["kpi"] == kpi].set_index("region").reindex(table["region"])
    scale = 100.0 if k.format == "percent" else 1.0
    colours = [fmt.STATUS_TEXT.get(s, "#94a3b8") for s in r["status"]]
    names = table[t("township_name", ctx.lang)].tolist()
    fig = go.Figure(go.Bar(
        x=names, y=r["value"].to_numpy(dtype=float) * scale, customdata=table["region"].tolist(),
        marker=dict(color=colours, opacity=[0.45 if s else 1.0 for s in r["small_sample"].fillna(False)],
                    line=dict(width=[3 if c == picked else 0 for c in table["region"]], color="#f8fafc")),
        hovertemplate="%{x}: %{y:.1f}" + ("%" if k.format == "percent" else "") + "<extra></extra>",
    ))
    target = r["target"].dropna()
    if len(target):
        fig.add_hline(y=float(target.iloc[0]) * scale, line_dash="dot", line_color="#94a3b8",
                      annotation_text=t("target", ctx.lang), annotation_font_color="#94a3b8")
    vals = r["value"].dropna().to_numpy(dtype=float) * scale
    lo = float(min(vals.min(), (target.min() * scale) if len(target) else vals.min())) if len(vals) else 0.0
    top = 100.0 if k.format == "percent" else (float(vals.max()) * 1.05 if len(vals) else 1.0)
    fig.update_layout(
        height=340, margin=dict(l=10, r=10, t=10, b=10), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=maps.FONT, color="#e2e8f0"), showlegend=False, clickmode="event+select",
        yaxis=dict(gridcolor="#1e3a5f", ticksuffix="%" if k.format == "percent" else "", automargin=True,
                   range=[max(0.0, lo - (100 - lo) * 0.3) if k.format == "percent" else 0, top + (0.5 if k.format == "percent" else 0)]),
        xaxis=dict(tickangle=-45, automargin=True),
    )
    return fig


def _trend_chart(ctx: Ctx, county: str, township: str, kpi: str) -> None:
    eng = data.engine()
    geo, k = eng.geo, eng.catalogue.kpi(kpi)
    tr = data.reader().township_trend(kpi, township, county, ctx.period)
    if tr["value"].notna().any():  # months before the first figures (the demo starts in 2021-01) are left out
        tr = tr[tr["month"] >= tr.loc[tr["value"].notna(), "month"].min()]
    scale = 100.0 if k.format == "percent" else 1.0
    st.markdown("**" + t("township_trend_title", ctx.lang, kpi=k.name(ctx.lang), township=geo.get(township).name(ctx.lang),
                         county=geo.get(county).name(ctx.lang)) + "**")
    fig = go.Figure()
    for i, (code, label) in enumerate(((township, geo.get(township).name(ctx.lang)),
                                       (county, t("township_county_value", ctx.lang, county=geo.get(county).name(ctx.lang))))):
        d = tr[tr["region"] == code].sort_values("month")
        fig.add_trace(go.Scatter(x=d["month"], y=d["value"] * scale, name=label, mode="lines+markers",
                                 line=dict(width=3 if i == 0 else 1.8, color="#38bdf8" if i == 0 else "#facc15")))
    fig.update_layout(
        height=280, margin=dict(l=10, r=10, t=30, b=10), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=maps.FONT, color="#e2e8f0"), legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        yaxis=dict(gridcolor="#1e3a5f", ticksuffix="%" if k.format == "percent" else ""),
        xaxis=dict(gridcolor="#1e3a5f", tickformat="%Y-%m"),
    )
    plot(fig, chart_name(k.name(ctx.lang), geo.get(township).name(ctx.lang), ctx.period.label), width="stretch",
         key="township_trend")


def township_section(ctx: Ctx, county: str) -> None:
    """The section, when the county has township figures; nothing at all otherwise."""
    eng = data.engine()
    geo, cat, L = eng.geo, eng.catalogue, ctx.lang
    code = st.query_params.get(PARAM)
    if code and code in geo.townships and not data.reader().township_allowed(code):
        _refuse(ctx, code)
    if not geo.townships_of(county):
        return
    rows = county_townships(ctx, county)
    if rows.empty:
        return
    picked = _picked(ctx, county)
    cname = geo.get(county).name(L)
    st.markdown(f"#### {t('township_title', L, county=cname)}")
    st.caption(t("township_demo_note", L))
    kpis = eng.township_kpis()
    a, _ = st.columns([1, 1])
    with a:
        kpi = urlstate.select(t("township_kpi", L), kpis, "twkpi", format_func=lambda x: cat.kpi(x).name(L))
    if picked:
        with st.container(horizontal=True, vertical_alignment="center", gap="small", key="township_breadcrumb"):
            st.button(cname + "  ›", key="township_crumb_county", type="tertiary", on_click=_set_township, args=(None,))
            st.button(geo.get(picked).name(L), key="township_crumb_town", type="tertiary", disabled=True)
        one = rows[(rows["kpi"] == kpi) & (rows["region"] == picked)]
        if one.empty or one["value"].isna().all():
            st.info(t("township_no_data", L))
        _trend_chart(ctx, county, picked, kpi)
    table = township_table(rows, ctx, kpi)
    st.markdown("**" + t("township_bar_title", L, kpi=cat.kpi(kpi).name(L), county=cname) + "**")
    st.caption(t("township_pick_hint", L))
    plot(_bar(table, rows, ctx, kpi, picked), chart_name(cat.kpi(kpi).name(L), cname, ctx.period.label), width="stretch",
         key="township_bar", on_select=lambda: _on_bar("township_bar"), selection_mode="points")
    codes = table["region"].tolist()
    col = t("status", L)
    disp = table.drop(columns=["region", "status"])
    disp[col] = ["● " + fmt.status_label(s, L) for s in table["status"]]
    colours = [fmt.STATUS_TEXT.get(s, "#cbd5e1") for s in table["status"]]
    styled = disp.style.apply(lambda _: [f"color: {c}" for c in colours], subset=[col])
    st.dataframe(styled, hide_index=True, width="stretch", key="township_table", on_select=lambda: _on_row(
        "township_table", codes), selection_mode="single-row", height=min(36 * (len(disp) + 1) + 4, 560))
    downloads.buttons(disp.assign(region=codes), f"{cname}_{t('dl_file_townships', L)}_{cat.kpi(kpi).name(L)}_"
                      f"{ctx.period.label}", L, key="township_dl")
