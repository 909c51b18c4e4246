"""Administration (admins only): accounts (list, add, disable/enable, reset password, change role and
scope) and the audit log (filters, CSV/Excel export). Every change goes through auth.accounts, which
writes the audit entry in the same transaction."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from auth import accounts, audit
from auth.audit import ACTIONS
from auth.policy import ROLES
from metrics.geography import PROVINCE
from ui import auth as ui_auth
from ui import data, downloads, push_admin, token_admin
from ui.html import md
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

ctx = get_ctx()
L = ctx.lang
header(ctx, t("auth_admin_title", L))
me = ui_auth.require("accounts", L)
store, geo = data.engine().store, data.engine().geo
scopes = [PROVINCE, *geo.cities, *sorted(geo.counties, key=lambda c: (geo.city_of(c), c))]


def scope_label(code: str) -> str:
    return ui_auth.scope_name(code, L) + f" · {code}"


def done(msg: str) -> None:
    st.session_state["auth_admin_msg"] = msg
    st.rerun()


tab_acc, tab_audit = st.tabs([t("auth_tab_accounts", L), t("auth_tab_audit", L)])
with tab_acc:
    msg = st.session_state.pop("auth_admin_msg", None)
    if msg:
        st.success(msg)
    users = accounts.list_users(store)
    st.dataframe(pd.DataFrame({
        t("auth_col_user", L): [u.username for u in users],
        t("auth_col_role", L): [ui_auth.role_name(u.role, L) for u in users],
        t("auth_col_scope", L): [scope_label(u.scope_code) for u in users],
        t("auth_col_email", L): [u.email or "—" for u in users],
        t("auth_col_status", L): [" · ".join([t("auth_status_disabled" if u.disabled else "auth_status_active", L)]
                                             + ([t("auth_status_demo", L)] if u.is_demo else [])) for u in users],
    }), hide_index=True, width="stretch")
    a, b = st.columns(2)
    with a, st.form("auth_add_form", clear_on_submit=True):
        st.markdown(f"**{t('auth_add', L)}**")
        name = st.text_input(t("auth_col_user", L), key="auth_new_user", max_chars=64)
        email = st.text_input(t("auth_col_email", L), key="auth_new_email")
        role = st.selectbox(t("auth_col_role", L), ROLES, key="auth_new_role",
                            format_func=lambda r: ui_auth.role_name(r, L))
        scope = st.selectbox(t("auth_col_scope", L), scopes, key="auth_new_scope", format_func=scope_label)
        pw = st.text_input(t("auth_new_password", L), type="password", key="auth_new_pw")
        if st.form_submit_button(t("auth_add", L), type="primary"):
            try:
                accounts.create_user(store, name, pw, role, scope, email=email or None, by=me.username)
            except accounts.UsernameError:
                st.error(t("auth_bad_username", L))
            except ValueError as exc:
                st.error(t("auth_error", L, error=md(exc)))
            else:
                done(t("auth_add_done", L, user=md(name)))
    with b:
        if users:
            st.markdown(f"**{t('auth_edit', L)}**")
            by_name = {u.username: u for u in users}
            who = st.selectbox(t("auth_pick_user", L), list(by_name), key="auth_edit_user")
            u = by_name[who]
            with st.form("auth_role_form"):
                r = st.selectbox(t("auth_col_role", L), ROLES, index=ROLES.index(u.role), key="auth_edit_role",
                                 format_func=lambda x: ui_auth.role_name(x, L))
                sc = st.selectbox(t("auth_col_scope", L), scopes, index=scopes.index(u.scope_code)
                                  if u.scope_code in scopes else 0, key="auth_edit_scope", format_func=scope_label)
                if st.form_submit_button(t("auth_change_role", L)):
                    try:
                        accounts.set_role(store, who, r, sc, by=me.username)
                    except ValueError as exc:
                        st.error(t("auth_error", L, error=md(exc)))
                    else:
                        done(t("auth_change_done", L, user=md(who), role=ui_auth.role_name(r, L), scope=scope_label(sc)))
            with st.form("auth_pw_form", clear_on_submit=True):
                npw = st.text_input(t("auth_new_password", L), type="password", key="auth_edit_pw")
                if st.form_submit_button(t("auth_reset", L)):
                    try:
                        accounts.set_password(store, who, npw, by=me.username)
                    except ValueError as exc:
                        st.error(t("auth_error", L, error=md(exc)))
                    else:
                        done(t("auth_reset_done", L, user=md(who)))
            label = t("auth_enable" if u.disabled else "auth_disable", L)
            if st.button(label, key="auth_toggle", disabled=who == me.username):
                accounts.set_disabled(store, who, not u.disabled, by=me.username)
                done(t("auth_disable_done", L, user=md(who), state=t("auth_enable" if u.disabled else "auth_disable", L)))

with tab_audit:
    f1, f2, f3 = st.columns(3)
    since = f1.date_input(t("auth_audit_since", L), value=dt.date.today() - dt.timedelta(days=30), key="auth_a_since")
    who = f2.selectbox(t("auth_audit_user", L), ["", *[u.username for u in accounts.list_users(store)]],
                       key="auth_a_user", format_func=lambda x: x or t("auth_audit_all", L))
    act = f3.selectbox(t("auth_audit_action", L), ["", *ACTIONS], key="auth_a_action",
                       format_func=lambda x: t(f"auth_act_{x}", L) if x else t("auth_audit_all", L))
    log = audit.read(store, since=dt.datetime.combine(since, dt.time()), user=who or None, action=act or None)
    st.caption(t("auth_audit_count", L, n=len(log)))
    log = log.rename(columns={"target": "object"})  # what was acted on, not a KPI's target
    shown = downloads.readable(log, L).frame  # actions and headers in words, as the download writes them
    for c in shown.select_dtypes(exclude=["number", "datetime"]).columns:  # a missing cell reads "—", not a grey "None"
        shown[c] = [x if isinstance(x, str) or pd.notna(x) else "—" for x in shown[c]]
    st.dataframe(shown, hide_index=True, width="stretch", height=min(520, 38 + 35 * max(len(log), 1)))
    downloads.buttons(log, f"{t('auth_audit_file', L)}_{since:%Y%m%d}", L, key="auth_audit_dl", permission="audit")

token_admin.section(me, L)  # API tokens: create, list, revoke (auth.tokens, as the CLI)
push_admin.admin_section(store.engine, me.username, L, scopes, scope_label)
