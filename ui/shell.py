"""The app frame: global pickers (language, period, scope) bound to the URL, theme CSS, badges.

The pickers are widgets bound to query parameters (ui.urlstate), so every view is a
shareable link: ?lang=en&period=2024-06&scope=330100. A value equal to the default (中文, the
latest month with data, the province) is left out of the URL. ?kiosk=1 switches to wall-screen
mode (no sidebar, no Streamlit chrome, self-refreshing, rotating views). A phone (its user agent,
浙政钉/DingTalk included) gets the phone layout (ui.phone); ?view=phone and ?view=desktop choose it by
hand for the rest of the session.

When the database does not answer, the frame shows only the language picker and a banner that
says so (error class only, no URL or password), every page stops at `ctx()`, and a small fragment
retries every RETRY_S seconds and reruns the app as soon as the database answers: no restart.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, replace
from html import escape
from urllib.parse import urlencode

import streamlit as st

from metrics.geography import PROVINCE, geography
from metrics.periods import Period, add_months, last_complete_month
from ui import data, phone_css, theme, urlstate, wall_css
from ui.i18n import t

FIRST_MONTH = dt.date(2021, 1, 1)  # the reform's first reporting month
LANG_NAMES = {"zh": "中文", "en": "English"}
RETRY_S = 5  # seconds between database retries while the banner shows
# user agents of phones and of the DingTalk / 浙政钉 (TaurusApp) in-app browser; a tablet is left desktop
PHONE_UA = re.compile(r"DingTalk|TaurusApp|iPhone|iPod|Android.*Mobile|Windows Phone|HarmonyOS.*Phone", re.I)
VIEW_KEY = "_view"  # the session's explicit ?view= choice


@dataclass(frozen=True)
class Ctx:
    lang: str
    period: Period
    scope: str
    kiosk: bool
    latest: Period | None
    demo: bool
    refresh: int = 60  # kiosk: seconds between data refreshes
    rotate: int = 30  # kiosk: seconds per rotating view (0 = no rotation)
    db_error: str | None = None  # set when the database did not answer (the banner shows it)
    phone: bool = False  # the phone layout (ui.phone): a phone's user agent or ?view=phone


    def params(self, **extra: str) -> dict[str, str]:
        """Query parameters that reproduce this view (plus page-specific extras)."""
        p: dict[str, str] = {}
        if self.lang != "zh":
            p["lang"] = self.lang
        p["period"] = self.period.label
        if self.scope != PROVINCE:
            p["scope"] = self.scope
        if self.phone:  # a link opened in a new session keeps the layout chosen by hand
            p["view"] = "phone"
        return p | {k: v for k, v in extra.items() if v is not None}

    def qs(self, **extra: str) -> str:
        return urlencode(self.params(**extra))


def month_options(latest: Period | None, today: dt.date | None = None) -> list[str]:
    """Months from the latest with data back to the reform's start, newest first."""
    last = latest or last_complete_month(today)
    out, m = [], last.start
    while m >= FIRST_MONTH:
        out.append(f"{m:%Y-%m}")
        m = add_months(m, -1)
    return out or [last.label]


@functools.cache
def favicon():
    """Drawn locally (a material-icon or emoji favicon would be fetched from a CDN)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (11, 20, 38, 255))
    d = ImageDraw.Draw(img)
    d.ellipse((8, 8, 56, 56), outline=(56, 189, 248, 255), width=6)
    d.rectangle((22, 30, 28, 44), fill=(34, 197, 94, 255))
    d.rectangle((30, 24, 36, 44), fill=(245, 158, 11, 255))
    d.rectangle((38, 18, 44, 44), fill=(56, 189, 248, 255))
    return img


def phone_ua(agent: str | None) -> bool:
    return bool(agent and PHONE_UA.search(agent))


def phone_view() -> bool:
    """The phone layout: ?view=phone / ?view=desktop (remembered for the session), else the user agent."""
    v = st.query_params.get("view")
    if v in ("phone", "desktop"):
        st.session_state[VIEW_KEY] = v
    chosen = st.session_state.get(VIEW_KEY)
    if chosen is not None:
        return chosen == "phone"
    try:
        return phone_ua(st.context.headers.get("User-Agent"))
    except Exception:  # noqa: BLE001 (no request headers, as under AppTest: the desktop layout)
        return False


def kiosk_requested() -> bool:
    """Wall-screen mode is the URL's ?kiosk=1 on every run (never remembered by the session): a page
    link or Back without it shows the sidebar again at once."""
    return str(st.query_params.get("kiosk", "0")).lower() in ("1", "true", "yes")


def _int_param(name: str, default: int, hi: int = 86_400) -> int:
    """A whole number of seconds from the URL within [0, hi]; anything else is the default."""
    v = urlstate.parse_number(st.query_params.get(name, default), 0, hi, integer=True)
    return default if v is None else int(v)


def frame() -> Ctx:
    """Render the global pickers and theme; return the view context (also kept for the pages)."""
    kiosk = kiosk_requested()
    try:
        eng = data.engine()
        latest = data.latest()
        demo = eng.store.is_demo()
    except data.DB_ERRORS as exc:
        return _offline_frame(kiosk, exc)
    with st.sidebar:
        lang = urlstate.select("语言 / Language", ["zh", "en"], "lang", format_func=LANG_NAMES.get,
                               widget="segmented")
        theme_name = theme.choose(lang, kiosk)
        months = month_options(latest)
        # the month being reported is offered too, first, marked 数据未齐 with its coverage; the default
        # stays the latest month (engine.latest_month), the same on every surface
        progress = data.reader().reporting_months()  # (month, counties in, counties expected)
        labels = {m: t("period_in_progress", lang, month=m, n=n, of=of) for m, n, of in progress}
        period = urlstate.select(t("period", lang), [m for m, _, _ in progress] + months, "period",
                                 default=months[0], format_func=lambda m: labels.get(m, m))
        scopes = data.reader().views()  # a scoped user is offered only their scope
        scope = urlstate.select(
            t("scope", lang), scopes, "scope", default=scopes[0],
            format_func=lambda c: t("province_scope", lang) if c == PROVINCE else eng.geo.get(c).name(lang),
        )
    ctx = Ctx(
        lang=lang, period=Period.parse(period or months[0]), scope=scope or scopes[0], kiosk=kiosk, latest=latest,
        demo=demo, refresh=_int_param("refresh", 60) or 60, rotate=_int_param("rotate", 30),
        phone=phone_view() and not kiosk,
    )
    theme.inject(kiosk, theme_name)
    wall_css.inject()
    phone_css.inject()  # after the wall's sizes: its narrow-screen rules win on a phone
    st.session_state["_ctx"] = ctx
    return ctx


def _offline_frame(kiosk: bool, exc: BaseException) -> Ctx:
    """The frame while the database is down: language picker only (the period and scope pickers
    would reset to fallbacks and stick), view parameters taken from the URL untouched."""
    with st.sidebar:
        lang = urlstate.select("语言 / Language", ["zh", "en"], "lang", format_func=LANG_NAMES.get,
                               widget="segmented")
    try:
        period = Period.parse(str(st.query_params.get("period", "")))
    except ValueError:
        period = last_complete_month()
    scope = st.query_params.get("scope", PROVINCE)
    ctx = Ctx(lang=lang, period=period, scope=scope if scope in geography().regions else PROVINCE, kiosk=kiosk,
              latest=None, demo=False, refresh=_int_param("refresh", 60) or 60, rotate=_int_param("rotate", 30),
              db_error=data.describe_error(exc), phone=phone_view() and not kiosk)
    theme.inject(kiosk, theme.current())
    wall_css.inject()
    phone_css.inject()  # after the wall's sizes: its narrow-screen rules win on a phone
    st.session_state["_ctx"] = ctx
    return ctx


def _in_fragment_rerun() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    return bool(run is not None and run.fragment_ids_this_run)


def db_banner(c: Ctx) -> None:
    """Say the database is unreachable; outside a fragment, retry every RETRY_S s and rerun the app
    when it answers (a kiosk fragment retries on its own timer)."""
    st.error(t("data_db_down", c.lang, error=c.db_error or "?", secs=RETRY_S), icon=":material/cloud_off:")
    if _in_fragment_rerun():
        return

    @st.fragment(run_every=RETRY_S)
    def retry() -> None:
        if not _in_fragment_rerun():  # first draw: wait RETRY_S before probing (no tight rerun loop)
            st.caption(t("data_db_retrying", c.lang, time=dt.datetime.now().strftime("%H:%M:%S")))
            return
        try:
            data.version()
        except data.DB_ERRORS:
            st.caption(t("data_db_retrying", c.lang, time=dt.datetime.now().strftime("%H:%M:%S")))
            return
        st.rerun(scope="app")

    retry()


def ctx() -> Ctx:
    """The view context set by app.py's frame (every page calls this first).

    Stops the page with the banner when the database is down; in a fragment rerun (kiosk refresh)
    it checks the database first, since the frame did not run.
    """
    _ensure_navigation()
    c = st.session_state.get("_ctx")
    c = c if c is not None else frame()
    if c.db_error is None and _in_fragment_rerun():
        try:
            data.version()
        except data.DB_ERRORS as exc:
            c = replace(c, db_error=data.describe_error(exc))
    if c.db_error is not None:
        db_banner(c)
        st.stop()
    return c


def _ensure_navigation() -> None:
    """Work around Streamlit 1.67 running a page script without app.py.

    Because pages/ exists, Streamlit starts in its legacy multipage mode until the first
    st.navigation call of the process; a first visit by deep link (/county?county=...) then runs
    pages/county.py directly as a legacy page: no frame, legacy page list in the sidebar. Leaving
    legacy mode and rerunning runs app.py, which registers the pages and renders the frame.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def header(c: Ctx, title: str) -> None:
    """Title line: page title, scope, period, demo badge (always visible when demo data)."""
    eng = data.engine()
    scope_name = t("province_scope", c.lang) if c.scope == PROVINCE else eng.geo.get(c.scope).name(c.lang)
    badge = (f'<span class="demo" title="{t("demo_tip", c.lang)}">{t("demo_badge", c.lang)}</span>'
             if c.demo else "")
    st.html(f'<div class="hdr"><span class="h-title">{escape(title)}</span>'
            f'<span class="h-meta">{escape(scope_name)} · {escape(c.period.label)}</span>{badge}</div>')
