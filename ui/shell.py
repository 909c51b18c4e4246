"""The app frame: global pickers (language, period, scope) bound to the URL, theme CSS, badges.

The pickers are widgets bound to query parameters (ui.urlstate), so every view is a
shareable link: ?lang=en&period=2024-06&scope=330100. A value equal to the default (中文, the
latest month with data, the province) is left out of the URL. ?kiosk=1 switches to wall-screen
mode (no sidebar, no Streamlit chrome, self-refreshing, rotating views).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from metrics.geography import PROVINCE
from metrics.periods import Period, add_months, last_complete_month
from ui import data, theme, urlstate
from ui.i18n import t

FIRST_MONTH = dt.date(2021, 1, 1)  # the reform's first reporting month
LANG_NAMES = {"zh": "中文", "en": "English"}


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

    def params(self, **extra: str) -> dict[str, str]:
        """Query parameters that reproduce this view (plus page-specific extras)."""
        p: dict[str, str] = {}
        if self.lang != "zh":
            p["lang"] = self.lang
        p["period"] = self.period.label
        if self.scope != PROVINCE:
            p["scope"] = self.scope
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


@st.cache_resource(show_spinner=False)
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


def _int_param(name: str, default: int) -> int:
    try:
        return max(0, int(st.query_params.get(name, default)))
    except (TypeError, ValueError):
        return default


def frame() -> Ctx:
    """Render the global pickers and theme; return the view context (also kept for the pages)."""
    eng = data.engine()
    if "kiosk" not in st.session_state:
        st.session_state["kiosk"] = st.query_params.get("kiosk", "0") in ("1", "true", "yes")
    kiosk = bool(st.session_state["kiosk"])
    latest = data.latest()
    with st.sidebar:
        lang = urlstate.select("语言 / Language", ["zh", "en"], "lang", format_func=LANG_NAMES.get,
                               widget="segmented")
        months = month_options(latest)
        period = urlstate.select(t("period", lang), months, "period")
        scopes = [PROVINCE, *eng.geo.cities]
        scope = urlstate.select(
            t("scope", lang), scopes, "scope",
            format_func=lambda c: t("province_scope", lang) if c == PROVINCE else eng.geo.get(c).name(lang),
        )
    ctx = Ctx(
        lang=lang, period=Period.parse(period or months[0]), scope=scope or PROVINCE, kiosk=kiosk, latest=latest,
        demo=eng.store.is_demo(), refresh=_int_param("refresh", 60) or 60, rotate=_int_param("rotate", 30),
    )
    theme.inject(kiosk)
    st.session_state["_ctx"] = ctx
    return ctx


def ctx() -> Ctx:
    """The view context set by app.py's frame (every page calls this first)."""
    _ensure_navigation()
    c = st.session_state.get("_ctx")
    return c if c is not None else frame()


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
    st.html(f'<div class="hdr"><span class="h-title">{title}</span>'
            f'<span class="h-meta">{scope_name} · {c.period.label}</span>{badge}</div>')
