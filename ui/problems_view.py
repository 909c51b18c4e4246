"""七张问题清单 on the party-led system page: the figures per region (on-time closure, overdue,
problem-control index), a filterable list of problems, and one problem's history."""

from __future__ import annotations

import html as _html
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import problems as mp
from metrics.geography import PROVINCE
from ui import auth, data, downloads, fmt, refusals
from ui import system_model as sm
from ui.chart_style import chart_name, plot
from ui.dash_widgets import chart_title, on_chart_pick, on_row_pick, set_params, status_table
from ui.i18n import t
from ui.shell import Ctx

STATUS_COLOURS = {"open": "#38bdf8", "closed": "#22c55e", "overdue": "#ef4444"}
EVENT_COLOURS = {"found": "#a855f7", "assigned": "#38bdf8", "progress": "#94a3b8", "overdue": "#ef4444",
                 "closed": "#22c55e", "extended": "#f59e0b"}
CSS = """
<style>
.pv-tiles {display:grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap:8px;}
.pv-tile {background:var(--c-panel); border:1px solid var(--c-line); border-radius:6px; padding:6px 10px;}
.pv-l {font-size:0.8rem; color:var(--c-muted);} .pv-v {font-size:1.5rem; font-weight:700; color:var(--c-strong);}
.pv-s {font-size:0.75rem; color:var(--c-accent);}
.pv-tl {list-style:none; margin:0; padding:0 0 0 6px; border-left:2px solid var(--c-line);}
.pv-tl li {margin:0 0 8px 0; padding-left:12px; position:relative; font-size:0.88rem; color:var(--c-text);}
.pv-tl li:before {content:""; position:absolute; left:-7px; top:5px; width:10px; height:10px; border-radius:50%;
  background:var(--c);}
.pv-tl .d {color:var(--c-accent); font-variant-numeric:tabular-nums; margin-right:8px;}
.pv-tl .a {color:var(--c-muted); margin-left:6px;}
</style>
"""


def _tile(label: str, value: str, sub: str = "") -> str:
    return (f'<div class="pv-tile"><div class="pv-l">{_html.escape(label)}</div>'
            f'<div class="pv-v">{_html.escape(value)}</div><div class="pv-s">{_html.escape(sub)}</div></div>')


def index_frame(table: pd.DataFrame, drill: sm.Drill, lang: str) -> pd.DataFrame:
    """The bar chart's (and its download's) frame: child regions of the drill with index and parts."""
    geo = data.engine().geo
    kids = geo.cities if drill.level == "province" else geo.counties_of(drill.city or "")
    out = table[table["region"].isin(kids)].copy()
    out.insert(1, "name", [sm.region_name(geo, r, lang) for r in out["region"]])
    out["selected"] = out["region"] == drill.county
    return out.sort_values(["index", "region"], ascending=[False, True], na_position="last").reset_index(drop=True)


def index_figure(frame: pd.DataFrame, lang: str, parent: float | None, parent_label: str) -> go.Figure:
    sel = frame["selected"].astype(bool).tolist()
    fig = go.Figure(go.Bar(
        x=frame["name"], y=frame["index"], customdata=frame["region"],
        marker=dict(color=["#38bdf8" if x else "#0ea5e9" for x in sel],
                    line=dict(color=["#f8fafc" if x else "rgba(0,0,0,0)" for x in sel], width=[3 if x else 0 for x in sel])),
        text=[f"{v:.1f}" if fmt.is_num(v) else "—" for v in frame["index"]], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:.1f}<extra></extra>", showlegend=False,
    ))
    if parent is not None:
        fig.add_hline(y=parent, line_dash="dot", line_color="#f59e0b", annotation_text=parent_label,
                      annotation_font_color="#f59e0b")
    vals = frame["index"].dropna()
    lo = max(0.0, float(vals.min()) - 10) if len(vals) else 0.0
    fig.update_layout(
        height=300, margin=dict(l=8, r=8, t=28, b=8), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=sm.FONT, color=sm.TEXT, size=12), dragmode=False, clickmode="event+select",
    )
    fig.update_yaxes(gridcolor=sm.GRID, range=[lo, 101])
    fig.update_xaxes(tickangle=-40 if len(frame) > 8 else 0)
    return fig


def list_frame(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The problem list (download and table): one row per problem with its status on the day."""
    cfg, geo = mp.config(), data.engine().geo
    return pd.DataFrame({
        "id": df["id"].astype(int),
        "code": df["code"],
        "source": [cfg.source(s).name(lang) for s in df["source"]],
        "region": df["region_code"],
        "region_name": [geo.get(r).name(lang) for r in df["region_code"]],
        "title": df["title_en" if lang == "en" else "title_zh"],
        "owner": df["owner_en" if lang == "en" else "owner_zh"],
        "found_date": df["found_date"].dt.strftime("%Y-%m-%d"),
        "deadline": df["deadline"].dt.strftime("%Y-%m-%d"),
        "closed_date": df["closed_date"].dt.strftime("%Y-%m-%d").fillna(""),
        "status_code": df["status_then"],
        "status": [cfg.status(s).name(lang) for s in df["status_then"]],
        "days_overdue": df["days_overdue"].astype(int),
        "self_found": df["self_found"].astype(bool),
    })


def problems_section(ctx: Ctx, drill: sm.Drill) -> None:
    lang, read = ctx.lang, data.reader()
    geo, cfg = read.geo, mp.config()
    st.html(CSS)
    allp = read.problems()
    if allp.empty:
        st.info(t("sys_no_problems", lang))
        return
    table = read.problem_regions(ctx.period)  # in-scope regions only
    here = table.set_index("region").loc[drill.region]
    where = sm.region_name(geo, drill.region, lang)
    rank = (t("sys_rank_of", lang, rank=int(here["rank"]), of=int(here["rank_of"]))
            if fmt.is_num(here["rank"]) else "")
    st.html('<div class="pv-tiles">' + "".join([
        _tile(t("sys_pb_found", lang), f"{int(here['found']):,}", t("sys_pb_since", lang)),
        _tile(t("sys_pb_open", lang), f"{int(here['open']):,}", where),
        _tile(t("sys_pb_overdue", lang), f"{int(here['overdue']):,}", ctx.period.label),
        _tile(t("sys_pb_ontime", lang), fmt.percent(here["ontime_rate"], 1),
              t("sys_pb_window", lang, n=int(here["closed_ontime"]), d=int(here["due_in_window"]))),
        _tile(t("sys_pb_close", lang), fmt.percent(here["close_rate"], 1), f"{int(here['closed'])}/{int(here['found'])}"),
        _tile(cfg.index.name(lang),
              f"{here['index']:.1f}" if fmt.is_num(here["index"]) else "—", rank),
    ]) + "</div>")
    st.caption(t("sys_pb_note", lang))

    left, right = st.columns([3, 2], gap="medium")
    idx = index_frame(table, drill, lang)
    child = t("sys_child_city", lang) if drill.level == "province" else t("sys_child_county", lang)
    stem = f"{t('dl_file_problems', lang)}_{sm.region_name(geo, drill.region, lang)}_{ctx.period.label}"
    with left:
        chart_title(t("sys_pb_index_title", lang, child=child, name=cfg.index.name(lang)))
        parent = drill.city if drill.level == "county" else drill.region
        by_region = table.set_index("region")["index"]
        pv = by_region.get(parent) if parent else None  # a county scope does not read its city's figure
        key = f"pbidx_{drill.region}"
        plot(index_figure(idx, lang, float(pv) if fmt.is_num(pv) else None,
                          sm.region_name(geo, parent or PROVINCE, lang)),
             chart_name(cfg.index.name(lang), where, ctx.period.label), width="stretch", key=key,
             on_select=partial(on_chart_pick, key), selection_mode="points")
        downloads.buttons(idx, f"{stem}_{t('dl_file_index', lang)}", lang, "dl_pbidx")
        with st.expander(t("sys_pb_formula", lang), icon=":material/functions:"):
            total = sum(c.weight for c in cfg.index.components)
            st.html('<table class="sd-def">' + "".join(
                f"<tr><td>{_html.escape(c.name(lang))} · {c.weight / total * 100:.0f}%</td>"
                f"<td>{_html.escape(c.definition_en if lang == 'en' else c.definition_zh)}</td></tr>"
                for c in cfg.index.components) + "</table>")
            st.caption(t("sys_pb_formula_note", lang))
    with right:
        chart_title(t("sys_pb_table_title", lang, child=child))
        disp = pd.DataFrame({
            "region": idx["region"],
            t("region", lang): idx["name"],
            cfg.index.name(lang): [f"{v:.1f}" if fmt.is_num(v) else "—" for v in idx["index"]],
            t("rank", lang): [f"{int(r)}/{int(n)}" if fmt.is_num(r) else "—" for r, n in zip(idx["rank"], idx["rank_of"],
                                                                                           strict=True)],
            t("sys_pb_ontime", lang): [fmt.percent(v, 1) for v in idx["ontime_rate"]],
            t("sys_pb_overdue", lang): idx["overdue"],
            t("sys_pb_open", lang): idx["open"],
        })
        codes = idx["region"].tolist()
        key = f"pbtable_{drill.region}"
        status_table(disp, lang, key=key, on_select=partial(on_row_pick, key, codes, "drill"), height=300)
        st.caption(t("sys_click_row", lang))

    problem_list(ctx, drill, allp)


def problem_list(ctx: Ctx, drill: sm.Drill, allp: pd.DataFrame) -> None:
    lang, read = ctx.lang, data.reader()
    geo, cfg = read.geo, mp.config()
    chart_title(t("sys_pb_list_title", lang, region=sm.region_name(geo, drill.region, lang)))
    a, b, c, d = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
    with a:
        sources = st.multiselect(t("sys_pb_source", lang), [s.code for s in cfg.sources], key="pb_sources",
                                 format_func=lambda x: cfg.source(x).name(lang), placeholder=t("sys_all", lang),
                                 select_all=False)
    with b:
        statuses = st.multiselect(t("status", lang), [s.code for s in cfg.statuses], key="pb_statuses",
                                  format_func=lambda x: cfg.status(x).name(lang), placeholder=t("sys_all", lang),
                                  select_all=False)
    with c:
        text = st.text_input(t("sys_pb_search", lang), key="pb_text")
    with d:
        overdue = st.toggle(t("sys_pb_overdue_only", lang), key="pb_overdue")
    if drill.level == "province":
        regions = None
    elif drill.level == "city":
        regions = geo.counties_of(drill.region)
    else:
        regions = [drill.region]
    now = mp.filter_problems(mp.as_of(allp, ctx.period.end), regions=regions)
    shown = mp.filter_problems(now, sources, statuses, None, overdue, text.strip())
    shown = shown.sort_values(["status_then", "deadline"], key=lambda s: s.map({"overdue": 0, "open": 1, "closed": 2})
                              if s.name == "status_then" else s)
    lf = list_frame(shown, lang)
    st.caption(t("sys_pb_count", lang, n=len(lf), total=len(now)))
    disp = pd.DataFrame({
        t("sys_pb_code", lang): lf["code"], t("sys_pb_source", lang): lf["source"],
        t("county", lang): lf["region_name"], t("sys_pb_title", lang): lf["title"],
        t("sys_pb_owner", lang): lf["owner"], t("sys_pb_found_date", lang): lf["found_date"],
        t("sys_pb_deadline", lang): lf["deadline"], t("status", lang): lf["status"],
        t("sys_pb_days_overdue", lang): lf["days_overdue"],
    })
    colours = [STATUS_COLOURS.get(s, "#cbd5e1") for s in lf["status_code"]]
    styled = disp.style.apply(lambda _: [f"color: {x}" for x in colours], subset=[t("status", lang)])
    codes = lf["code"].tolist()
    key = f"pblist_{drill.region}_{len(lf)}"
    st.dataframe(styled, hide_index=True, width="stretch", height=360, key=key,
                 on_select=partial(on_row_pick, key, codes, "problem"), selection_mode="single-row")
    downloads.buttons(lf, f"{t('dl_file_problems', lang)}_{sm.region_name(geo, drill.region, lang)}_{ctx.period.label}", lang, "dl_pblist")
    chosen = st.query_params.get("problem")
    try:  # looked up in the whole register, so that a problem outside the scope is refused, not "not found"
        p = read.problem(chosen)
    except PermissionError as exc:
        u = auth.current_quiet()
        refusals.deny(u, f"problem={chosen}", f"problem outside scope: {exc}",
                      t("auth_refused", lang, what=chosen, scope=auth.scope_name(u.scope_code, lang) if u else "-"))
        set_params(problem=None)
        p = None
    if p is None:
        st.caption(t("sys_pb_pick", lang))
        return
    ev = read.problem_events(int(p["id"]))
    ev = ev[ev["event_date"] <= ctx.period.end] if not ev.empty else ev
    state = mp.status_at(p["found_date"], p["deadline"], p["closed_date"], ctx.period.end)
    title = p["title_en"] if lang == "en" else p["title_zh"]
    chart_title(t("sys_pb_history", lang, code=p["code"]))
    st.html(
        f'<div class="sd-sys"><b>{_html.escape(title)}</b> · {_html.escape(geo.get(p["region_code"]).name(lang))} · '
        f'{_html.escape(cfg.source(p["source"]).name(lang))} · {t("sys_pb_owner", lang)} '
        f'{_html.escape(p["owner_en"] if lang == "en" else p["owner_zh"])} · {t("sys_pb_deadline", lang)} {p["deadline"]} · '
        f'<span style="color:{STATUS_COLOURS[state]}">{_html.escape(cfg.status(state).name(lang))}</span></div>'
        '<ul class="pv-tl">' + "".join(
            f'<li style="--c:{EVENT_COLOURS.get(e.kind, "#94a3b8")}"><span class="d">{e.event_date}</span>'
            f'{_html.escape(t("sys_ev_" + e.kind, lang))} · {_html.escape(e.note_en if lang == "en" else e.note_zh)}'
            f'<span class="a">{_html.escape(e.actor_en if lang == "en" else e.actor_zh)}</span></li>'
            for e in ev.itertuples()) + "</ul>"
    )
    downloads.buttons(ev, f"{p['code']}_{t('dl_file_history', lang)}", lang, "dl_pbhist")
    if st.button(t("sys_pb_close_history", lang), key="pb_close_hist", type="tertiary"):
        set_params(problem=None)
        st.rerun()
