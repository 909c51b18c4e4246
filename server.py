"""The app's server entry point: `streamlit run server.py` serves app.py plus the cockpit's own routes.

Its own routes: the one that sets and clears the HttpOnly session cookie (auth/cookie.py) and the
read-only HTTP API under /api/v1 (api/); everything else is Streamlit's. It also starts the cache
warm-up thread (ui/warmup.py). Tests and tools that only need the pages may still run app.py directly.
"""

from __future__ import annotations

import streamlit as st

import api
from auth import cookie
from ui import warmup


def _session_exists(token: str) -> bool:
    from auth import accounts
    from ui.data import engine

    return accounts.session_exists(engine().store, token)


_BASE = str(st.get_option("server.baseUrlPath") or "")
warmup.start()  # fill the first pages' caches before the first person signs in (ui/warmup.py)
app = st.App("app.py", routes=[cookie.route(_session_exists, _BASE), *api.routes(_BASE)])
