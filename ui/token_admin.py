"""The admin page's API token section: create (name, scope, expiry; the token shown once), list, revoke.

The same functions as `python -m auth token ...` (auth.tokens), which validate, store the digest only
and write the audit entry; this module only draws the forms and translates the outcomes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth import tokens
from auth.accounts import User
from metrics.geography import PROVINCE
from ui import auth as ui_auth
from ui import data
from ui.html import md
from ui.i18n import t

DEFAULT_DAYS = 180
MSG_KEY = "tok_admin_msg"


def _scopes() -> list[str]:
    geo = data.engine().geo
    return [PROVINCE, *geo.cities, *sorted(geo.counties, key=lambda c: (geo.city_of(c), c))]


def _label(code: str, lang: str) -> str:
    return ui_auth.scope_name(code, lang) + f" · {code}"


def _when(v: object) -> str:
    return "—" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def section(me: User, lang: str) -> None:
    """Draw the section for the signed-in administrator `me`."""
    store = data.engine().store
    st.subheader(t("tok_title", lang))
    st.caption(t("tok_intro", lang))
    msg = st.session_state.pop(MSG_KEY, None)
    if msg:
        st.success(msg)
    scopes = _scopes()
    with st.form("tok_create_form", clear_on_submit=True):
        st.markdown(f"**{t('tok_create', lang)}**")
        a, b, c = st.columns([2, 2, 1])
        name = a.text_input(t("tok_name", lang), key="tok_new_name", max_chars=64)
        scope = b.selectbox(t("tok_scope", lang), scopes, key="tok_new_scope", format_func=lambda s: _label(s, lang))
        days = c.number_input(t("tok_days", lang), min_value=1, max_value=3660, value=DEFAULT_DAYS, step=1,
                              key="tok_new_days")
        submitted = st.form_submit_button(t("tok_create", lang), type="primary")
    if submitted:
        _create(store, me, name.strip(), scope, int(days), lang)
    listed = tokens.list_tokens(store)
    if not listed:
        st.info(t("tok_none", lang))
        return
    st.dataframe(pd.DataFrame({
        t("tok_col_name", lang): [x.name for x in listed],
        t("tok_col_scope", lang): [_label(x.scope_code, lang) for x in listed],
        t("tok_col_state", lang): [t(f"tok_state_{x.state()}", lang) for x in listed],
        t("tok_col_created", lang): [_when(x.created_at) for x in listed],
        t("tok_col_expires", lang): [_when(x.expires_at) for x in listed],
        t("tok_col_used", lang): [_when(x.last_used_at) for x in listed],
    }), hide_index=True, width="stretch", key="tok_list")
    active = [x.name for x in listed if x.state() == "active"]
    st.markdown(f"**{t('tok_revoke', lang)}**")
    if not active:
        st.caption(t("tok_no_active", lang))
        return
    a, b = st.columns([2, 3])
    pick = a.selectbox(t("tok_revoke_pick", lang), active, key="tok_revoke_name")
    sure = b.checkbox(t("tok_revoke_confirm", lang), key="tok_revoke_sure")
    if st.button(t("tok_revoke", lang), key="tok_revoke_btn", disabled=not sure, icon=":material/key_off:"):
        try:
            tokens.revoke(store, pick, by=me.username)
        except ValueError as exc:
            st.error(t("tok_error", lang, error=md(exc)))
        else:
            st.session_state[MSG_KEY] = t("tok_revoked", lang, name=md(pick))
            st.session_state.pop("tok_revoke_sure", None)
            st.rerun()


def _create(store: object, me: User, name: str, scope: str, days: int, lang: str) -> None:
    if not tokens.valid_name(name):
        st.error(t("tok_bad_name", lang))
        return
    if any(x.name == name for x in tokens.list_tokens(store)):
        st.error(t("tok_exists", lang, name=md(name)))
        return
    try:
        token = tokens.create(store, name, scope, days, by=me.username)
    except ValueError as exc:
        st.error(t("tok_error", lang, error=md(exc)))
        return
    # shown in this run only: nothing keeps it (session state, cache, log), so a rerun hides it for good
    st.success(t("tok_created", lang, name=md(name), scope=_label(scope, lang), days=days), icon=":material/key:")
    st.code(token, language=None)
