"""Refusals: every refused request (URL parameter, page, follow-up item, problem) is one audit entry.

`deny` shows the refusal (when given a message) and records `audit.record(..., "denied", what, reason)`
once per distinct request: a Streamlit rerun of the same URL (a widget click) does not record it again,
the same request with other URL parameters does.
"""

from __future__ import annotations

import streamlit as st

from auth import audit
from auth.accounts import User
from ui import data

SEEN_KEY = "_denied_seen"


def _request() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, ",".join(st.query_params.get_all(k))) for k in st.query_params))


def deny(user: User | None, what: str, reason: str, message: str | None = None) -> bool:
    """Show `message` as an error (if any) and audit the refusal; True when an entry was written."""
    if message:
        st.error(message, icon=":material/block:")
    key = (what, reason, _request())
    seen = st.session_state.setdefault(SEEN_KEY, [])
    if key in seen:
        return False
    audit.record(data.engine().store, user.username if user else None, "denied", what, reason)
    seen.append(key)
    del seen[:-50]  # a bounded memory of recent requests
    return True


def page_requested(user: User) -> None:
    """Audit a request for a page the user's role or scope does not have (it is not registered, so
    Streamlit answers "page not found" and shows the default page)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    from auth import policy

    run = get_script_run_ctx()
    if run is None:
        return
    name, page_hash = run.pages_manager.intended_page_name or "", run.pages_manager.intended_page_script_hash or ""
    for page in policy.PAGES:
        if (name.strip("/") == page or page_hash == calc_hash(page)) and not policy.may_see_page(
                user.role, page, user.scope_code):
            deny(user, f"page={page}", f"page not permitted for role {user.role} in scope {user.scope_code}")
            return
