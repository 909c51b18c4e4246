"""批示督办 in the UI: the "写批示" dialog, the ◆ markers, item tables and alerts.

Entry points (tiles, the map's county panel, league rows, alerts, the county profile) call
`instruct_button` / `open_dialog` with the figure's KPI and region; the dialog records the figure as
the engine gives it now (`followup.service.figure_of`, through the user's reader) and the
service checks the permission again when the instruction is issued. Markers are read per run (the
follow-up tables change without a data version, so nothing here is cached across runs): the latest
item on a (kpi, region) figure the user may see, with its state (overdue first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from auth.accounts import User
from followup import model
from followup import service as fs
from followup.model import Figure, Item
from metrics.catalogue import Kpi
from metrics.engine import EngineError
from metrics.periods import Period
from ui import auth, data, fmt
from ui.alerts import Alert, followup_alerts
from ui.html import md
from ui.i18n import t
from ui.maps import label_points
from ui.shell import Ctx

PAGE = "pages/followup.py"
FLASH = "_fu_flash"
MARK_COLOUR = "#f59e0b"
MARK_AHEAD = 92  # days after the chart's last month within which an instruction's date is drawn
DIALOG = "_fu_dialog"


def user() -> User | None:
    return auth.current_quiet()


def _store():
    return data.engine().store


def may_instruct(region: str) -> bool:
    u = user()
    return u is not None and fs.may_instruct(u, region)


def state_text(item: Item, lang: str, today: dt.date | None = None) -> str:
    """The item's state in a few characters: overdue days first, else the status (and returns)."""
    today = today or dt.date.today()
    days = item.overdue_days(today)
    if days:
        return t("followup_st_overdue", lang, days=days)
    s = t(f"followup_st_{item.status}", lang)
    if item.n_returned and item.status == model.OPEN:
        s += " · " + t("followup_st_returned", lang, n=item.n_returned)
    return s


def marker_text(item: Item, lang: str, today: dt.date | None = None) -> str:
    """E.g. "◆ 批示·办理中" for the latest instruction on a figure (a glyph every CJK font has, no emoji)."""
    return t("followup_marker", lang, state=state_text(item, lang, today))


def markers(kpis: Sequence[str] | None = None, regions: Sequence[str] | None = None) -> dict[tuple[str, str], Item]:
    """The latest visible item per (kpi, region) for the signed-in user ({} when nobody is)."""
    u = user()
    if u is None or not fs.policy.can(u.role, "followup"):
        return {}
    return fs.markers(_store(), u, kpis=kpis, regions=regions)


def kpi_markers(kpis: Sequence[str]) -> dict[str, tuple[Item, int]]:
    """Per KPI: the latest visible item on any figure of it in the user's view, and how many are active
    (a tile is the scope's figure; the instructions on its regions belong to it too)."""
    out: dict[str, tuple[Item, int]] = {}
    scope = data.reader().scope
    for (kpi, region), item in markers(kpis=kpis).items():
        if not scope.allows(region):
            continue
        prev = out.get(kpi)
        n = (prev[1] if prev else 0) + (item.status in model.ACTIVE)
        out[kpi] = (item if prev is None or item.created_at > prev[0].created_at else prev[0], n)
    return out


def region_name(code: str, lang: str) -> str:
    geo = data.engine().geo
    return geo.get(code).name(lang) if code in geo.regions else code


def owner_name(kind: str, code: str, lang: str) -> str:
    if kind == model.OWNER_REGION:
        return region_name(code, lang)
    if lang == "en":
        k = next((k for k in data.engine().catalogue.kpis if k.owner_zh == code), None)
        return k.owner_en if k else code
    return code


def kpi_name(code: str, lang: str) -> str:
    cat = data.engine().catalogue
    try:
        return cat.kpi(code).name(lang)
    except KeyError:
        return code


def figure_value(fig: Figure, lang: str) -> str:
    try:
        k = data.engine().catalogue.kpi(fig.kpi)
    except KeyError:
        return fmt.text(fig.value)
    return fmt.value(fig.value, k, lang, short=False)


def figure_text(fig: Figure, lang: str) -> str:
    """One line: KPI · region · period: value (target, status) · as of · data version."""
    try:
        k = data.engine().catalogue.kpi(fig.kpi)
        target = fmt.value(fig.target, k, lang, short=False) if fmt.is_num(fig.target) else t("no_target", lang)
    except KeyError:
        target = fmt.text(fig.target)
    return t("followup_figure_line", lang, kpi=kpi_name(fig.kpi, lang), region=region_name(fig.region, lang),
             period=fig.period, value=figure_value(fig, lang), target=target,
             status=fmt.status_label(fig.status, lang), as_of=fig.as_of or "—", version=fig.data_version)


# -- the dialog -----------------------------------------------------------------------------------------------------
def instruct_button(ctx: Ctx, kpi: str, region: str, source: str, key: str, label: str | None = None,
                    period: str | None = None, kind: str = "tertiary") -> None:
    """A small "批示" button that opens the dialog (nothing for users who may not instruct on `region`);
    the figure is the view's period unless `period` says otherwise (the map's month slider)."""
    if ctx.kiosk or not may_instruct(region):
        return
    if st.button(label or t("followup_btn", ctx.lang), key=key, icon=":material/edit_note:", type=kind,
                 help=t("followup_write", ctx.lang)):
        request(key, kpi, region, source, period)
    host(ctx, key)


def request(key: str, kpi: str, region: str, source: str, period: str | None = None) -> None:
    """Ask for the dialog on (kpi, region); `host(ctx, key)` at the same place opens it.

    The request stays in the session until the instruction is issued or the dialog dismissed, so a
    full rerun while it is open (or AppTest, which has no fragment reruns) shows it again.
    """
    st.session_state[DIALOG] = {"key": key, "kpi": kpi, "region": region, "source": source, "period": period}


def host(ctx: Ctx, key: str) -> None:
    d = st.session_state.get(DIALOG)
    if d and d["key"] == key:
        open_dialog(ctx, d["kpi"], d["region"], d["source"], d.get("period"))


def _dismissed() -> None:
    st.session_state.pop(DIALOG, None)


def open_dialog(ctx: Ctx, kpi: str, region: str, source: str, period: str | None = None) -> None:
    st.dialog(t("followup_write", ctx.lang), width="large", on_dismiss=_dismissed)(_dialog)(
        ctx, kpi, region, source, period or ctx.period.label)


def _dialog(ctx: Ctx, kpi: str, region: str, source: str, period: str) -> None:
    lang = ctx.lang
    u = user()
    if u is None or not fs.may_instruct(u, region):
        st.error(t("followup_err_permission", lang))
        return
    if source == "tile":  # a tile is the scope's figure: the instruction may address the scope or a region in it
        read = data.reader()
        geo = read.geo
        opts = [region] + [c for c in read.cities() if region == "330000"] + [
            c for c in sorted(read.counties(), key=lambda x: (geo.city_of(x), x))
            if c != region and (region == "330000" or geo.city_of(c) == region)]
        region = st.selectbox(t("followup_col_region", lang), opts, key="fu_region",
                              format_func=lambda c: region_name(c, lang))
    try:
        fig = fs.figure_of(data.reader(), kpi, region, period)
    except (EngineError, PermissionError) as exc:
        st.error(t("followup_err_figure", lang, error=type(exc).__name__))
        return
    st.caption(t("followup_figure", lang))
    st.markdown(f"**{fmt_md(figure_text(fig, lang))}**")
    regions = fs.owner_options(u, region, data.engine().geo)
    kinds = ([model.OWNER_REGION] if regions else []) + [model.OWNER_DEPARTMENT]
    kind = st.segmented_control(t("followup_owner_kind", lang), kinds, default=kinds[0], key=f"fu_kind_{len(kinds)}",
                                format_func=lambda x: t(f"followup_owner_{x}", lang)) or kinds[0]
    if kind == model.OWNER_REGION:
        owner = st.selectbox(t("followup_owner", lang), regions, key=f"fu_owner_r_{region}",
                             format_func=lambda c: region_name(c, lang))
    else:
        depts = fs.departments(data.engine().catalogue)
        mine = fs.department_of(kpi, data.engine().catalogue)
        owner = st.selectbox(t("followup_owner", lang), depts, index=depts.index(mine), key="fu_owner_d",
                             format_func=lambda c: owner_name(model.OWNER_DEPARTMENT, c, lang))
    today = dt.date.today()
    deadline = st.date_input(t("followup_deadline", lang), value=today + dt.timedelta(days=model.DEFAULT_DAYS),
                             min_value=today, key="fu_deadline")
    text = st.text_area(t("followup_text", lang), key="fu_text",
                        placeholder=example_text(kpi, region, period, region_name(
                            owner if kind == model.OWNER_REGION else region, lang), lang))
    if st.button(t("followup_submit", lang), type="primary", key="fu_submit", icon=":material/send:"):
        try:
            item_id = fs.create(_store(), u, fig, text, owner_kind=kind, owner_code=owner, deadline=deadline,
                                source=source, is_demo=ctx.demo)
        except fs.FollowupError as exc:
            st.error(t(f"followup_err_{exc.reason}", lang))
            return
        except PermissionError:
            st.error(t("followup_err_permission", lang))
            return
        for k in [k for k in st.session_state if str(k).startswith("fu_") and k not in ("fu_table",)] + [DIALOG]:
            st.session_state.pop(k, None)
        st.session_state[FLASH] = (item_id, t("followup_created", lang, id=item_id,
                                             owner=owner_name(kind, owner, lang), deadline=deadline.isoformat()))
        st.rerun()


def trend_move(values: Sequence[float | None], kpi: Kpi) -> tuple[str, bool] | None:
    """How a figure moved over the months shown: ("up" | "down" | "flat", whether that is better for the
    KPI's direction); None with fewer than two months. Flat when the first and last month print alike."""
    vals = [float(v) for v in values if fmt.is_num(v)]
    if len(vals) < 2:
        return None
    first, last = vals[0], vals[-1]
    if fmt.value(first, kpi) == fmt.value(last, kpi) or first == last:
        return "flat", False
    move = "up" if last > first else "down"
    return move, move == kpi.direction


def example_text(kpi: str, region: str, period: str, who: str, lang: str) -> str:
    """The instruction box's example, worded after the figure's own 12-month trend (the one the trend
    chart draws): a call to correct a worsening figure, to keep up an improving one, neutral otherwise."""
    read = data.reader()
    k = read.catalogue.kpi(kpi)
    try:
        tr = read.trend([kpi], [region], Period.parse(period))
    except (EngineError, PermissionError, ValueError):
        tr = None
    vals = [] if tr is None or tr.empty else tr[tr["region"] == region].sort_values("month")["value"].tolist()
    moved = trend_move(vals, k)
    if moved is None or moved[0] == "flat":
        return t("followup_text_ph", lang, region=who, kpi=k.name(lang))
    move, better = moved
    return t("followup_text_ph_better" if better else "followup_text_ph_worse", lang, region=who,
             kpi=k.name(lang), n=len(vals), move=t(f"followup_move_{move}", lang))


def fmt_md(text: str) -> str:

    return md(text)


def flash(ctx: Ctx) -> None:
    """The confirmation of an instruction just issued (shown once), with a link to the item."""
    got = st.session_state.pop(FLASH, None)
    if not got:
        return
    item_id, msg = got
    st.success(msg, icon=":material/task_alt:")
    st.page_link(PAGE, label=t("followup_open_item", ctx.lang, id=item_id), icon=":material/assignment:",
                 query_params=ctx.params(item=str(item_id)))


# -- tables, alerts, trend marks ------------------------------------------------------------------------------------
def items_frame(items: Sequence[Item], lang: str, today: dt.date | None = None) -> pd.DataFrame:
    """The item list as shown (and downloaded): one row per item, recorded figure included."""
    rows = [{
        t("followup_col_id", lang): i.id,
        t("followup_col_created", lang): i.created_at.strftime("%Y-%m-%d %H:%M"),
        t("followup_col_author", lang): i.author,
        t("followup_col_kpi", lang): kpi_name(i.figure.kpi, lang),
        t("followup_col_region", lang): region_name(i.figure.region, lang),
        t("followup_col_period", lang): i.figure.period,
        t("followup_col_value", lang): figure_value(i.figure, lang),
        t("followup_col_text", lang): i.text,
        t("followup_col_owner", lang): owner_name(i.owner_kind, i.owner_code, lang),
        t("followup_col_deadline", lang): i.deadline.isoformat(),
        t("followup_col_state", lang): state_text(i, lang, today),
    } for i in items]
    return pd.DataFrame(rows, columns=[t(f"followup_col_{c}", lang) for c in (
        "id", "created", "author", "kpi", "region", "period", "value", "text", "owner", "deadline", "state")])


def overdue_alerts(ctx: Ctx) -> list[Alert]:
    """Overdue items in the user's view as alerts (recording their escalation first)."""
    u = user()
    if u is None or not fs.policy.can(u.role, "followup"):
        return []
    fs.escalate_overdue(_store())
    scope = data.reader().scope
    items = [i for i in fs.overdue(_store(), u) if scope.allows(i.figure.region)]
    return followup_alerts(items, dt.date.today(), ctx.lang, kpi_name, region_name, owner_name)


def trend_marks(kpi: str, region: str) -> list[tuple[dt.date, Item]]:
    """Dates of the instructions on a figure (any period), for the vertical marks on its trend."""
    u = user()
    if u is None or not fs.policy.can(u.role, "followup"):
        return []
    return [(i.created_at.date(), i) for i in fs.items_for(_store(), u, kpi=kpi, region=region)]


def county_items(ctx: Ctx, county: str) -> None:
    """The county profile's list of instructions on its figures (the 写批示 button is beside the trend)."""
    u = user()
    if u is None or not fs.policy.can(u.role, "followup"):
        return
    items = fs.items_for(_store(), u, region=county)
    flash(ctx)
    with st.expander(t("followup_county_items", ctx.lang, n=len(items)), expanded=bool(items),
                     icon=":material/assignment:"):
        if items:
            st.dataframe(items_frame(items, ctx.lang), hide_index=True, width="stretch")
            for i in items[:5]:
                st.page_link(PAGE, label=f"#{i.id} · {marker_text(i, ctx.lang)}", query_params=ctx.params(item=str(i.id)))
        else:
            st.caption(t("followup_none", ctx.lang))


def marker_link(ctx: Ctx, kpi: str, region: str, source: str, key: str, period: str | None = None) -> None:
    """The figure's ◆ marker (a link to its latest item) and the 批示 button, side by side (map panel, rows)."""
    item = markers(kpis=[kpi], regions=[region]).get((kpi, region))
    a, b = st.columns([3, 2], vertical_alignment="center")
    if item is not None:
        a.page_link(PAGE, label=marker_text(item, ctx.lang), query_params=ctx.params(item=str(item.id)))
    with b:
        instruct_button(ctx, kpi, region, source, key=key, period=period)


def mark_trend(fig, ctx: Ctx, kpi: str, region: str, scale: float, first: object) -> None:
    """Mark the instructions on (kpi, region) on a monthly trend chart (plotly figure, months as dates):
    a dashed vertical line at each instruction's date, when it lies within the chart's window or up to
    MARK_AHEAD days after it (the months that follow show the effect), and a ◆ on the recorded figure's
    month at the value recorded then."""
    marks = trend_marks(kpi, region)
    if not marks or first is None:
        return
    lo = pd.Timestamp(first)
    hi = pd.Timestamp(ctx.period.end) + pd.Timedelta(days=MARK_AHEAD)
    xs, ys, tips, labels = [], [], [], []
    for day, item in marks:
        when = pd.Timestamp(day)
        if lo <= when <= hi:
            fig.add_vline(x=when.timestamp() * 1000, line_dash="dash", line_color=MARK_COLOUR, line_width=1.5)
            fig.add_annotation(x=when, y=1, yref="paper", text=f"◆ {t('followup_trend_mark', ctx.lang)} #{item.id}",
                               showarrow=False, font=dict(color=MARK_COLOUR, size=11), yanchor="bottom")
        try:
            month = pd.Timestamp(Period.parse(item.figure.period).start)
        except ValueError:
            continue
        if lo <= month <= pd.Timestamp(ctx.period.end) and item.figure.value is not None:
            xs.append(month)
            ys.append(item.figure.value * scale)
            labels.append(f"#{item.id}")
            tips.append(f"#{item.id} {day:%Y-%m-%d} · {state_text(item, ctx.lang)}<br>{escape(item.text[:60])}")
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", text=labels, textposition="top center",
                                 marker=dict(symbol="diamond", size=13, color=MARK_COLOUR,
                                             line=dict(color="#0f172a", width=1)),
                                 textfont=dict(color=MARK_COLOUR), hovertext=tips, hoverinfo="text",
                                 name=t("followup_trend_mark", ctx.lang)))


def map_with_markers(fig: dict, kpi: str, codes: Sequence[str], lang: str, kind: str = "counties") -> dict:
    """The cached map figure plus a ◆ above each region whose `kpi` figure carries an instruction (hover:
    its latest state; a click selects the region, like a click on its shape). The cached dict is not
    changed: markers are read per run, the shapes once per data version."""
    marks = {r: it for (_, r), it in markers(kpis=[kpi], regions=list(codes)).items()}
    if not marks:
        return fig

    pts = label_points(kind)
    hit = [c for c in codes if c in marks and c in pts]
    tips = [f"{region_name(c, lang)} · {marker_text(marks[c], lang)}" for c in hit]
    trace = go.Scattergeo(
        # a dark diamond ringed in the marker colour: visible on every status fill (amber included)
        lon=[pts[c][0] for c in hit], lat=[pts[c][1] + 0.05 for c in hit], mode="markers",
        marker=dict(symbol="diamond", size=15, color="#0b1220", line=dict(color=MARK_COLOUR, width=3)),
        customdata=[[c] for c in hit], hovertext=tips,
        hoverinfo="text", showlegend=False, name="followup_markers",
    )
    return {**fig, "data": [*fig["data"], trace.to_plotly_json()]}
