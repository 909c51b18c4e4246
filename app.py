"""The cockpit's entry point: page config, global frame (pickers, theme, demo badge), navigation.

Run with `./cockpit run`. Pages live in pages/ and are registered here explicitly (st.navigation).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ui import data, shell
from ui.i18n import t

st.set_page_config(page_title="一屏掌控 · 数字化改革", page_icon=shell.favicon(), layout="wide",
                   initial_sidebar_state="auto")

ctx = shell.frame()
lang = ctx.lang
pages = {
    t("nav_cockpit", lang): [
        st.Page("pages/overview.py", title=t("nav_overview", lang), icon=":material/dashboard:",
                url_path="overview", default=True),
        st.Page("pages/county.py", title=t("nav_county", lang), icon=":material/location_city:", url_path="county"),
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
}
nav = st.navigation(pages, position="hidden" if ctx.kiosk else "sidebar")
if ctx.demo and not ctx.kiosk:
    st.sidebar.caption(f"⚠️ {t('demo_tip', lang)}")
if not ctx.kiosk:
    st.sidebar.page_link("pages/overview.py", label=t("kiosk_link", lang), icon=":material/tv:",
                         query_params=ctx.params(kiosk="1"))
try:
    nav.run()
except data.DB_ERRORS as exc:  # the database went away while the page was being drawn
    shell.db_banner(replace(ctx, db_error=data.describe_error(exc)))
