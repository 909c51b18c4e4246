"""Refusals: every refused request (URL parameter, page, follow-up item, problem) is one audit entry.

`deny` shows the refusal (when given a message) and records `audit.record(..., "denied", what, reason)`
once per distinct request: a Streamlit rerun of the same URL (a widget click) does not record it again,
the same request with other URL parameters does.

A request present in the URL when the user signed in (INHERITED_KEY, noted by ui.auth) was not made by
them: the previous user of the browser left it, or it came in a link opened before signing in. During
the first run after signing in it is dropped without a message and without an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from auth import audit
from auth.accounts import User
from ui import data

SEEN_KEY = "_denied_seen"
INHERITED_KEY = "_auth_inherited"


def inherited(what: str) -> bool:
    """Whether the request `what` ("key=value" or "page=name") was in the URL at sign-in."""
    return what in (st.session_state.get(INHERITED_KEY) or ())


@contextmanager
def first_run() -> Iterator[None]:
    """Around a page's run: once a run has completed (or stopped) after signing in, the URL is the user's
    own; a run started over (st.rerun, a page switch) keeps the inherited requests for the next one."""
    rerun = False
    try:
        yield
    except RerunException:
        rerun = True
        raise
    finally:
        if not rerun:
            st.session_state.pop(INHERITED_KEY, None)


def _request() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, ",".join(st.query_params.get_all(k))) for k in st.query_params))


def deny(user: User | None, what: str, reason: str, message: str | None = None) -> bool:
    """Show `message` as an error (if any) and audit the refusal; True when an entry was written.
    A request inherited from before signing in is refused silently (no message, no entry)."""
    if inherited(what):
        return False
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
