"""数据质量: per county and month, reported / late / partly reported / refused / missing, with the
reasons, so the reform office can chase the right people (logic in ingest.quality).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from ingest import quality as q
from ingest.templates import reported_measures
from metrics.geography import PROVINCE
from metrics.periods import Period
from ui import auth, data, downloads, urlstate
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

COLOURS = {"reported": "#22c55e", "late": "#f59e0b", "partial": "#fb923c", "rejected": "#ef4444",
           "missing": "#a855f7", "pending": "#94a3b8", "na": "#475569"}
MAX_NAMES = 6

ctx = get_ctx()
L = ctx.lang
read = data.reader()
eng = read.engine
store, geo, cat = eng.store, eng.geo, eng.catalogue
header(ctx, t("nav_quality", L))
mname = {m.code: (m.name_en if L == "en" else m.name_zh) for m in reported_measures(cat)}


@data.cached(max_entries=32)
def _cells(rejections: int, end: str, n: int, counties: tuple[str, ...], today: str) -> pd.DataFrame:
    """The grid, cached per data version and rejection log position (both move on any change)."""
    counties = sorted(counties, key=lambda c: (geo.city_of(c), c))
    months = q.month_window(Period.parse(end).start, n)
    return q.quality_cells(store, months, counties, today=pd.Timestamp(today).date(), geo=geo, cat=cat)


def names(codes: list[str]) -> str:
    if codes and len(codes) == len(mname):
        return t("data_q_all_measures", L, n=len(codes))
    sep = "、" if L == "zh" else ", "
    shown = sep.join(mname.get(c, c) for c in codes[:MAX_NAMES])
    return shown + (t("data_q_more", L, n=len(codes)) if len(codes) > MAX_NAMES else "")


def reasons(msgs: list[dict]) -> str:
    return " | ".join(m.get(L) or m.get("zh", "") for m in msgs[:5]) + (" …" if len(msgs) > 5 else "")


def label(status: str) -> str:
    return t(f"data_q_{status}", L)


def county_name(code: str) -> str:
    return geo.get(code).name(L)


def when(v) -> str:
    return "—" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def days(v) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


a, b, c = st.columns([2, 1.3, 3])
with a:
    copts = read.zooms() or [geo.city_of(ctx.scope) or PROVINCE]
    city = urlstate.select(t("data_q_city", L), copts, "city", default=ctx.scope if ctx.scope in copts else copts[0],
                           format_func=lambda x: t("province_scope", L) if x == PROVINCE else county_name(x))
with b:
    n = int(urlstate.select(t("data_q_window", L), ["6", "12"], "window", default="12", widget="segmented",
                            format_func=lambda x: t("data_q_months", L, n=x)))
end = ctx.period if ctx.period.grain == "month" else (ctx.latest or ctx.period)
# The default period is the latest month whose reports are due; the month counties are reporting
# right now (a report or a refused attempt for it exists) comes after it and must be in the grid,
# or an officer cannot find the report they just sent. An explicitly chosen period is kept.
reporting = q.reporting_month(store, eng.today)
if reporting is not None and "period" not in st.query_params and reporting > end.start:
    end = Period.month(reporting.year, reporting.month)
with c:
    st.caption(t("data_q_help", L, end=end.label, day=q.REPORT_DUE_DAY, today=f"{eng.today:%Y-%m-%d}"))
    if reporting is not None and end.start == reporting:
        st.caption(t("data_q_reporting", L, month=end.label, due=f"{q.due_date(reporting):%Y-%m-%d}"))

mine = read.counties()  # a county officer sees only their own county
shown = tuple(x for x in (geo.counties if city == PROVINCE else geo.counties_of(city)) if x in mine)
cells = _cells(q.rejection_mark(store), end.label, n, shown, eng.today.isoformat())
if cells.empty:
    st.info(t("data_q_empty", L))
    st.stop()

# -- the month at the end of the window, in numbers ---------------------------------------------------
summary = q.month_summary(cells)
last = summary.iloc[-1]
cols = st.columns(6)
for col, s in zip(cols, ("reported", "late", "partial", "rejected", "missing", "pending"), strict=True):
    col.metric(f"{label(s)} · {summary.index[-1]}", int(last.get(s, 0)))

# -- the matrix -----------------------------------------------------------------------------------------
ma, mb = st.columns([3, 1], vertical_alignment="bottom")
with ma:
    st.markdown(f"#### {t('data_q_matrix', L, n=cells['county'].nunique(), months=n)}")
with mb:
    only = st.toggle(t("data_q_only_problems", L), key="q_only_problems")
m = q.matrix(cells)
if only:
    m = m[m.isin(q.PROBLEMS).any(axis=1)]
facts = cells.set_index(["county", "month"])
disp = pd.DataFrame(index=m.index)
for mo in m.columns:
    texts = []
    for county, s in m[mo].items():
        d = facts.loc[(county, mo)]
        extra = (f" +{int(d['days_late'])}" if s == "late" else
                 f" {int(d['n_reported'])}/{int(d['n_expected'])}" if s == "partial" else
                 f" ×{int(d['n_rejected'])}" if s == "rejected" else "")
        texts.append(f"● {label(s)}{extra}")
    disp[mo] = texts
disp.insert(0, t("data_q_col_city", L), [county_name(geo.city_of(x)) for x in m.index])
disp.insert(0, t("data_q_col_county", L), [county_name(x) for x in m.index])
styled = disp.reset_index(drop=True).style.apply(
    lambda col: [f"color: {COLOURS.get(s, '#cbd5e1')}" for s in m[col.name]] if col.name in m.columns
    else [""] * len(col), axis=0)
st.dataframe(styled, hide_index=True, width="stretch", height=min(640, 38 + 35 * len(disp)))
st.html('<div class="legend">' + "".join(
    f'<span><i style="background:{COLOURS[s]}"></i>{html.escape(label(s))}</span>' for s in q.STATUSES) + "</div>")
st.caption(t("data_q_legend", L, day=q.REPORT_DUE_DAY))
with st.columns([2, 3])[0]:
    downloads.buttons(disp, t("data_q_file_matrix", L, end=end.label, n=n), L, key="q_matrix")

# -- who to call, and why ------------------------------------------------------------------------------
chase_tab, detail_tab = st.tabs([t("data_q_chase", L), t("data_q_detail", L)])
with chase_tab:
    chase = q.chase_list(cells)
    if chase.empty:
        st.success(t("data_q_chase_none", L), icon=":material/task_alt:")
    else:
        ct = pd.DataFrame({
            t("data_q_col_county", L): [county_name(x) for x in chase["county"]],
            t("data_q_col_code", L): chase["county"],
            t("data_q_col_city", L): [county_name(x) for x in chase["city"]],
            t("data_q_col_months", L): [", ".join(f"{mo} {label(s)}" for mo, s in zip(ms, ss, strict=True))
                                        for ms, ss in zip(chase["months"], chase["statuses"], strict=True)],
            t("data_q_col_days", L): chase["days_overdue"],
            t("data_q_col_missing", L): [names(x) for x in chase["missing_measures"]],
            t("data_q_col_rejected", L): chase["n_rejected"],
            t("data_q_col_reasons", L): [reasons(x) for x in chase["reasons"]],
            t("data_q_col_contact", L): chase["last_submitter"].replace("", "—"),
        })
        st.dataframe(ct, hide_index=True, width="stretch", height=min(520, 38 + 35 * len(ct)),
                     column_config={t("data_q_col_missing", L): st.column_config.TextColumn(width="large"),
                                    t("data_q_col_reasons", L): st.column_config.TextColumn(width="large")})
        with st.columns([2, 3])[0]:
            downloads.buttons(ct, t("data_q_file_chase", L, end=end.label), L, key="q_chase")
with detail_tab:
    prob = q.problems(cells)
    show = st.multiselect(t("data_q_filter", L), list(q.PROBLEMS), default=list(q.PROBLEMS), key="q_status",
                          format_func=label, placeholder=t("auth_audit_all", L), select_all=False)
    prob = prob[prob["status"].isin(show)]
    if prob.empty:
        st.caption(t("data_q_detail_none", L))
    else:
        pcodes = list(prob["status"])
        dt_ = pd.DataFrame({
            t("data_q_col_county", L): [county_name(x) for x in prob["county"]],
            t("data_q_col_city", L): [county_name(x) for x in prob["city"]],
            t("data_q_col_month", L): prob["month"],
            t("data_q_col_status", L): [label(s) for s in pcodes],
            t("data_q_col_due", L): [f"{d:%Y-%m-%d}" for d in prob["due_date"]],
            t("data_q_col_received", L): [when(v) for v in prob["complete_at"]],
            t("data_q_col_late", L): [days(v) for v in prob["days_late"]],
            t("data_q_col_days", L): [days(v) for v in prob["days_overdue"]],
            t("data_q_col_missing", L): [names(x) for x in prob["missing_measures"]],
            t("data_q_col_rejected", L): prob["n_rejected"],
            t("data_q_col_reasons", L): [reasons(x) for x in prob["reasons"]],
            t("data_q_col_rejected_file", L): [f"{f or '—'} · {w or '—'} · {when(x)}" if k else ""
                                               for f, w, x, k in zip(prob["rejected_file"], prob["rejected_by"],
                                                                     prob["last_rejected_at"], prob["n_rejected"],
                                                                     strict=True)],
        })
        cs = [COLOURS[s] for s in pcodes]
        st.dataframe(dt_.style.apply(lambda _: [f"color: {x}" for x in cs], subset=[t("data_q_col_status", L)]),
                     hide_index=True, width="stretch", height=min(520, 38 + 35 * len(dt_)),
                     column_config={t("data_q_col_reasons", L): st.column_config.TextColumn(width="large")})
        with st.columns([2, 3])[0]:
            downloads.buttons(dt_, t("data_q_file_detail", L, end=end.label), L, key="q_detail")

# -- refused files that name no county (reform-office uploads) ----------------------------------------
me = auth.current_quiet()  # a scoped reader: only the unattributed refusals they submitted themself
loose = q.rejections(store, q.month_window(end.start, n), unattributed=True, allowed=read.scope.restriction,
                     user=me.username if me else None)
if not loose.empty:
    st.markdown(f"#### {t('data_q_unattributed', L)}")
    st.dataframe(pd.DataFrame({
        t("data_q_col_when", L): [when(v) for v in loose["received_at"]],
        t("data_q_col_file", L): loose["file_name"].fillna("—"),
        t("data_q_col_who", L): loose["submitted_by"].fillna("—"),
        t("data_q_col_month", L): loose["period"].fillna("—"),
        t("data_q_col_reasons", L): [reasons(x) for x in loose["messages"]],
    }), hide_index=True, width="stretch")
