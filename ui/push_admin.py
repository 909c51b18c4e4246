"""The pushes on the admin pages: the recipients section of 系统管理 (add, remove, send a test message)
and the delivery log of 定时任务 (what went out, what failed, queue the failed again).

Kept apart from the pages' own code so that each page calls it with one line. Writes go through
push.recipients / push.outbox / push.job, which keep the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from auth.policy import ROLES
from push import job, outbox, recipients
from push.channels import SendError
from ui import auth as ui_auth
from ui.html import md
from ui.i18n import t


def _when(v) -> str:
    return "—" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S")


def admin_section(engine: sa.Engine, me: str, lang: str, scopes: list[str], scope_label: Callable[[str], str]) -> None:
    """Recipients of the morning brief and the event pushes (the secret is written, never shown)."""
    L = lang
    with st.expander(t("push_admin_tab", L), expanded=False):
        st.caption(t("push_admin_caption", L))
        msg = st.session_state.pop("push_admin_msg", None)
        if msg:
            (st.error if msg[0] == "error" else st.success)(msg[1])
        people = recipients.active(engine)
        if people:
            st.dataframe(pd.DataFrame({
                t("push_col_id", L): [r.id for r in people],
                t("push_col_name", L): [r.name for r in people],
                t("push_col_channel", L): [t(f"push_channel_{r.channel}", L) for r in people],
                t("push_col_address", L): [r.address.split("?", 1)[0] for r in people],  # a token in the query stays hidden
                t("push_col_secret", L): [t("push_secret_set" if r.secret else "push_secret_unset", L) for r in people],
                t("push_col_role", L): [ui_auth.role_name(r.role, L) for r in people],
                t("push_col_scope", L): [scope_label(r.scope_code) for r in people],
                t("push_col_created", L): [_when(r.created_at) for r in people],
            }), hide_index=True, width="stretch")
        else:
            st.caption(t("push_none", L))
        a, b = st.columns(2)
        with a, st.form("push_add_form", clear_on_submit=True):
            st.markdown(f"**{t('push_add', L)}**")
            name = st.text_input(t("push_col_name", L), key="push_new_name", max_chars=64)
            channel = st.selectbox(t("push_col_channel", L), recipients.CHANNELS, key="push_new_channel",
                                   format_func=lambda c: t(f"push_channel_{c}", L))
            address = st.text_input(t("push_col_address", L), key="push_new_address")
            secret = st.text_input(t("push_col_secret", L), type="password", key="push_new_secret")
            role = st.selectbox(t("push_col_role", L), ROLES, key="push_new_role",
                                format_func=lambda r: ui_auth.role_name(r, L))
            scope = st.selectbox(t("push_col_scope", L), scopes, key="push_new_scope", format_func=scope_label)
            if st.form_submit_button(t("push_add", L), type="primary"):
                try:
                    recipients.add(engine, name, channel, address, role, scope, secret=secret or None, by=me)
                except ValueError as exc:
                    st.error(t("push_bad_input", L, error=md(exc)))
                else:
                    st.session_state["push_admin_msg"] = ("ok", t("push_add_done", L, name=md(name)))
                    st.rerun()
        with b:
            if people:
                by_id = {r.id: r for r in people}
                rid = st.selectbox(t("push_pick", L), list(by_id), key="push_pick",
                                   format_func=lambda i: f"#{i} {by_id[i].name}")
                if st.button(t("push_test", L), key="push_test", icon=":material/send:"):
                    try:
                        job.send_test(engine, rid, by=me)
                    except (SendError, ValueError) as exc:
                        st.session_state["push_admin_msg"] = ("error", t("push_test_failed", L, error=md(exc)))
                    else:
                        st.session_state["push_admin_msg"] = ("ok", t("push_test_done", L, name=md(by_id[rid].name)))
                    st.rerun()
                if st.button(t("push_remove", L), key="push_remove", icon=":material/delete:"):
                    recipients.remove(engine, rid, by=me)
                    st.session_state["push_admin_msg"] = ("ok", t("push_remove_done", L, name=md(by_id[rid].name)))
                    st.rerun()


def delivery_log(engine: sa.Engine, lang: str) -> None:
    """The jobs page's part: failed deliveries first (with a retry button), then the latest ones."""
    L = lang

    def frame(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            t("push_col_created", L): [_when(v) for v in df["created_at"]],
            t("push_col_kind", L): [t(f"push_kind_{k}", L) for k in df["kind"]],
            t("push_col_title", L): df["title"],
            t("push_col_recipient", L): [n if isinstance(n, str) else "—" for n in df["recipient"]],
            t("push_col_status", L): [t(f"push_state_{s}", L) for s in df["status"]],
            t("push_col_attempts", L): df["attempts"],
            t("push_col_sent", L): [_when(v) for v in df["sent_at"]],
            t("push_col_error", L): [e if isinstance(e, str) else "" for e in df["last_error"]],
        })

    st.markdown(f"#### {t('push_log_title', L)}")
    failed = outbox.deliveries(engine, status="failed")
    if failed.empty:
        st.caption(t("push_log_none_failed", L))
    else:
        st.error(t("push_log_failed", L, n=len(failed)), icon=":material/error:")
        st.dataframe(frame(failed), hide_index=True, width="stretch", height=min(360, 38 + 35 * len(failed)))
        if st.button(t("push_log_retry", L), key="push_retry", icon=":material/replay:"):
            st.session_state["push_retry_msg"] = t("push_log_retry_done", L, n=outbox.retry(engine))
            st.rerun()
    note = st.session_state.pop("push_retry_msg", None)
    if note:
        st.success(note)
    recent = outbox.deliveries(engine, limit=100)
    if not recent.empty:
        st.dataframe(frame(recent), hide_index=True, width="stretch", height=min(420, 38 + 35 * len(recent)))
