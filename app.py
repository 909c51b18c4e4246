"""The cockpit's entry point: page config, global frame (pickers, theme, demo badge), navigation.

Run with `./cockpit run`. Pages live in pages/ and are registered here explicitly (st.navigation).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import applog as logs
from auth import policy
from ui import auth, data, refusals, shell
from ui.i18n import t

logs.setup_streamlit()  # JSON lines on stdout when COCKPIT_LOG_FORMAT=json (production layout)
st.set_page_config(page_title="一屏掌控 · 数字化改革", page_icon=shell.favicon(), layout="wide",
                   initial_sidebar_state="collapsed" if shell.phone_view() else "auto")  # a phone opens on the content

try:  # sign-in first: nothing below runs for an anonymous session
    user = auth.gate()
    auth.guard_params(user, "en" if st.query_params.get("lang") == "en" else "zh")
except data.DB_ERRORS as exc:  # no user known yet: the page asked for opens once the database answers
    auth.remember_requested_page()
    shell.db_banner(replace(shell.frame(), db_error=data.describe_error(exc)))
    st.stop()
ctx = shell.frame()
lang = ctx.lang
pages = {
    t("nav_cockpit", lang): [
        overview := st.Page("pages/overview.py", title=t("nav_overview", lang), icon=":material/dashboard:",
                            url_path="overview", default=True),
        st.Page("pages/kpi.py", title=t("nav_kpi", lang), icon=":material/query_stats:", url_path="kpi"),
        st.Page("pages/map.py", title=t("nav_map", lang), icon=":material/map:", url_path="map"),
        st.Page("pages/county.py", title=t("nav_county", lang), icon=":material/location_city:", url_path="county"),
        st.Page("pages/followup.py", title=t("followup_nav", lang), icon=":material/assignment:",
                url_path="followup"),
    ],
    t("nav_race", lang): [
        st.Page("pages/rankings.py", title=t("nav_rankings", lang), icon=":material/leaderboard:",
                url_path="rankings"),
        st.Page("pages/compare.py", title=t("nav_compare", lang), icon=":material/compare_arrows:",
                url_path="compare"),
    ],
    t("nav_systems", lang): [
        st.Page("pages/system.py", title=t("nav_system", lang), icon=":material/table_view:", url_path="system"),
    ],
    t("nav_data", lang): [
        st.Page("pages/data_in.py", title=t("nav_data_in", lang), icon=":material/upload_file:",
                url_path="data_in"),
        st.Page("pages/quality.py", title=t("nav_quality", lang), icon=":material/fact_check:",
                url_path="quality"),
        st.Page("pages/jobs.py", title=t("nav_jobs", lang), icon=":material/schedule:", url_path="jobs"),
    ],
    t("nav_meeting", lang): [
        st.Page("pages/pack.py", title=t("nav_pack", lang), icon=":material/inventory_2:", url_path="pack"),
        st.Page("pages/present.py", title=t("nav_present", lang), icon=":material/slideshow:",
                url_path="present"),
    ],
    t("auth_nav_admin", lang): [
        st.Page("pages/admin.py", title=t("auth_admin_title", lang), icon=":material/admin_panel_settings:",
                url_path="admin"),
    ],
}
# only the pages the user's role may open are registered: any other URL is "page not found"
pages = {sec: kept for sec, ps in pages.items()
         if (kept := [p for p in ps if policy.may_see_page(user.role, p.url_path, user.scope_code)])}
if not policy.may_see_page(user.role, "overview"):  # Streamlit serves the default page at "/" only: give
    # roles without the cockpit a landing page, so each of their pages keeps its own URL
    mine = [p for ps in pages.values() for p in ps]
    pages = {t("auth_home", lang): [st.Page(lambda: auth.home(mine, lang), title=t("auth_home", lang),
                                            icon=":material/home:", url_path="home", default=True)], **pages}
refusals.page_requested(user)  # asked for a page the role lacks: audited
nav = st.navigation(pages, position="hidden" if ctx.kiosk else "sidebar")
if ctx.kiosk and nav is not overview:  # only the overview is a wall screen: elsewhere (a link followed
    # from the wall, Back) the sidebar, with sign-out, comes back
    del st.query_params["kiosk"]
    st.rerun()
auth.open_requested_page([p for ps in pages.values() for p in ps])
if ctx.kiosk:  # the way out of the wall screen, small in the corner
    with st.container(key="kiosk_exit"):
        st.page_link(overview, label=t("kiosk_exit", lang), icon=":material/close_fullscreen:",
                     query_params=ctx.params())
if not ctx.kiosk:
    auth.sidebar(user, lang)
if ctx.demo and not ctx.kiosk:
    st.sidebar.caption(f"⚠️ {t('demo_tip', lang)}")
if not ctx.kiosk and policy.may_see_page(user.role, "overview"):
    st.sidebar.page_link("pages/overview.py", label=t("kiosk_link", lang), icon=":material/tv:",
                         query_params=ctx.params(kiosk="1"))
try:
    with logs.page_render(nav.url_path, user.role), refusals.first_run():  # one page_render log event per run
        nav.run()
except data.DB_ERRORS as exc:  # the database went away while the page was being drawn
    shell.db_banner(replace(ctx, db_error=data.describe_error(exc)))
