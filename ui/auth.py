"""The sign-in gate: who is using the app, what they may see, and when their session ends.

The signed-in user lives only in Streamlit's server-side session state (key SESSION_KEY), set by
a successful password check (or a configured OpenID Connect sign-in mapped to a local account);
nothing from the browser (URL, cookie, header) can set it. Tests seed it the same way the form
does (`sign_in_session`), so production has no bypass switch. A session ends after IDLE_MINUTES
without a rerun; the account is re-read from the database every RECHECK_S seconds so a disabled
account or a changed role takes effect quickly.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any
from urllib.parse import urlparse

import streamlit as st

from auth import accounts, audit, check, cookie, policy
from auth.accounts import SignInError, User
from metrics.geography import PROVINCE
from ui import data, refusals
from ui.html import md
from ui.i18n import t

SESSION_KEY = data.USER_KEY  # read by ui.data for the scope of every read
COOKIE = cookie.NAME
IDLE_MINUTES = float(os.environ.get("COCKPIT_SESSION_MINUTES", "30"))
RECHECK_S = 60
HOME = "/"  # _auth_next after a sign-out: the next user starts on their role's default page
KEPT_PARAMS = ("lang",)


def sign_in_session(state: Any, user: User, now: float | None = None) -> None:
    """Record `user` as signed in in a session state mapping (the form's success path; tests too)."""
    now = time.time() if now is None else now
    state[SESSION_KEY] = {"username": user.username, "role": user.role, "scope": user.scope_code,
                          "seen": now, "checked": now}


def current() -> User | None:
    """The signed-in user of this session, or None (expired sessions are ended here)."""
    s = st.session_state.get(SESSION_KEY)
    if not s:
        return None
    now = time.time()
    if now - s["seen"] > IDLE_MINUTES * 60:
        del st.session_state[SESSION_KEY]
        with contextlib.suppress(data.DB_ERRORS):
            accounts.close_session(data.engine().store, s.get("token"))
        st.session_state["_auth_msg"] = "auth_expired"
        return None
    if now - s.get("checked", 0) > RECHECK_S:
        try:
            u = accounts.get_user(data.engine().store, s["username"])
        except data.DB_ERRORS:
            u = User(s["username"], s["role"], s["scope"])  # the banner will show; no data anyway
        if u is None or u.disabled:
            del st.session_state[SESSION_KEY]
            return None
        if s.get("token"):  # keep the browser session alive server-side too
            with contextlib.suppress(data.DB_ERRORS):
                accounts.resume_session(data.engine().store, s["token"], IDLE_MINUTES)
        s.update(role=u.role, scope=u.scope_code, checked=now)
    s["seen"] = now
    return User(s["username"], s["role"], s["scope"])


def current_quiet() -> User | None:
    """The user without touching the idle clock (for data filters called many times per run)."""
    s = st.session_state.get(SESSION_KEY)
    return User(s["username"], s["role"], s["scope"]) if s else None


def role_name(role: str, lang: str) -> str:
    return t(f"auth_role_{role}", lang)


def scope_name(code: str, lang: str) -> str:
    return t("province_scope", lang) if code == PROVINCE else data.engine().geo.get(code).name(lang)


def _lang() -> str:
    return "en" if st.query_params.get("lang") == "en" else "zh"


def refuse_start() -> None:
    """Outside demo mode, stop with a clear message while demo accounts or default secrets exist."""
    try:
        problems = check.problems(data.engine().store)
    except data.DB_ERRORS:
        return  # the frame shows the database banner
    if problems:
        for p in problems:
            st.error(t("auth_refuse_start", _lang(), problem=p), icon=":material/gpp_bad:")
        st.stop()


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return False


def _oidc_user() -> User | None:
    """A Streamlit (OpenID Connect) identity mapped to a local account by e-mail or user name."""
    if not _oidc_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    ident = str(st.user.get("email") or st.user.get("preferred_username") or "")
    u = accounts.find_by_email(data.engine().store, ident) if ident else None
    if u is None or u.disabled:
        if st.session_state.get("_auth_sso_refused") != ident:  # one audit entry per identity and session
            st.session_state["_auth_sso_refused"] = ident
            audit.record(data.engine().store, ident or None, "sign_in_failed", ident or "?",
                         "oidc: no local account" if u is None else "oidc: disabled")
        st.error(t("auth_sso_unknown", _lang(), email=md(ident or "?")), icon=":material/block:")
        return None
    audit.record(data.engine().store, u.username, "sign_in", u.username, "oidc")
    return u


def gate() -> User:
    """The signed-in user; otherwise draw the sign-in page and stop the script."""
    refuse_start()
    u = current()
    if u is not None:
        return u
    token = _cookie()
    if token and not st.session_state.get("_auth_msg"):  # a reload or a shared link: resume the session
        u = accounts.resume_session(data.engine().store, token, IDLE_MINUTES)
        if u is not None:
            sign_in_session(st.session_state, u)
            st.session_state[SESSION_KEY]["token"] = token
            return u
    sso = _oidc_user()
    if sso is not None:  # (no inherited URL to drop: the provider's redirect lands on the bare app address,
        # and a later new session of the same identity is that person's own reload, refused as usual)
        sign_in_session(st.session_state, sso)
        return sso
    _form()
    st.stop()
    raise AssertionError("unreachable")


def _cookie() -> str | None:
    try:
        v = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser (AppTest, bare mode)
        return None
    return v if isinstance(v, str) and v else None


def _set_cookie(token: str) -> None:
    """Have the server set (or, for "", clear) the HttpOnly session cookie (auth/cookie.py).

    Streamlit cannot send a header from a script run, and a cookie written by JavaScript could be
    read by any script on the page; so the page posts the token to the server's own route.
    """
    import json

    import streamlit.components.v1 as components

    base = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    url = (base.rstrip("/") + cookie.PATH) if base != "/" else cookie.PATH
    method = "POST" if token else "DELETE"
    components.html(f"<script>window.parent.fetch({json.dumps(url)}, {{method: {json.dumps(method)}, "
                    f"credentials: 'same-origin', headers: {{{json.dumps(cookie.HEADER)}: '1'}}, "
                    f"body: {json.dumps(token) if token else 'null'}}});</script>", height=0)


def home(pages: list, lang: str) -> None:
    """Landing page of roles without the cockpit (county officer, administrator): who, and where to go."""
    u = current_quiet()
    st.title(t("auth_home", lang))
    if u is not None:
        st.caption(t("auth_whoami", lang, user=md(u.username), role=role_name(u.role, lang),
                     scope=scope_name(u.scope_code, lang)))
    for p in pages:
        st.page_link(p, label=p.title, icon=p.icon)


def _form() -> None:
    lang = _lang()
    # the sign-in page shows no navigation (on a fresh server Streamlit would list the pages/ files)
    st.html("<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl']{display:none}</style>")
    remember_requested_page()
    if st.session_state.pop("_auth_clear_cookie", False):
        _set_cookie("")  # the signed-out token is already deleted server-side
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.title(t("auth_title", lang))
        st.caption(t("auth_intro", lang))
        msg = st.session_state.pop("_auth_msg", None)
        if msg:
            st.info(t(msg, lang))
        with st.form("auth_form"):
            name = st.text_input(t("auth_username", lang), key="auth_username")
            pw = st.text_input(t("auth_password", lang), type="password", key="auth_password")
            ok = st.form_submit_button(t("auth_submit", lang), type="primary")
        if ok:
            try:
                u = accounts.authenticate(data.engine().store, name.strip(), pw)
            except SignInError:
                # one message whatever the reason: a distinct "locked" would tell who has an account
                st.error(t("auth_bad", lang, n=accounts.MAX_FAILURES, minutes=accounts.LOCK_MINUTES),
                         icon=":material/error:")
            else:
                sign_in_session(st.session_state, u)
                st.session_state[SESSION_KEY]["token"] = accounts.open_session(data.engine().store, u.username)
                inherit_request()
                st.rerun()
        if _oidc_configured():
            st.button(t("auth_sso", lang), on_click=st.login, icon=":material/badge:")
        try:
            demo = data.engine().store.is_demo()
        except data.DB_ERRORS:
            demo = False
        if demo:
            with st.expander(t("auth_demo_title", lang), expanded=True):
                st.caption(t("auth_demo_help", lang))
                st.markdown("\n".join(
                    f"- `{n}` / `{p}` · {role_name(r, lang)} · {scope_name(s, lang)}"
                    for n, p, r, s in accounts.DEMO_ACCOUNTS))


def _requested_path() -> str:
    try:
        return urlparse(str(st.context.url or "")).path.strip("/").split("/")[-1]
    except Exception:  # noqa: BLE001 - no browser (AppTest)
        return ""


def inherit_request() -> None:
    """Note the URL as it stood when the user signed in: it was typed, or left in this browser by the
    previous user, before anyone was signed in. What of it lies outside the new user's scope is dropped
    without a refusal (ui.refusals) during the first run after signing in, instead of being shown and
    audited as the new user's attempt."""
    asked = {f"{k}={','.join(st.query_params.get_all(k))}" for k in st.query_params}
    want = st.session_state.get("_auth_next")
    page = want if isinstance(want, str) and want != HOME else _requested_path()
    st.session_state[refusals.INHERITED_KEY] = asked | {f"page={page}"}


def remember_requested_page() -> None:
    """Note the page asked for (a deep link) while the gate or a database outage holds it back."""
    if "_auth_next" not in st.session_state:
        st.session_state["_auth_next"] = _requested_path()


def open_requested_page(pages: list) -> None:
    """After signing in from a deep link, go on to the page that was asked for (if the role has it);
    after a sign-out in this browser, to the role's default page with a clean URL."""
    want = st.session_state.pop("_auth_next", None)
    if not want:
        return
    if want == HOME:
        if pages and _requested_path() not in ("", pages[0].url_path):
            st.switch_page(pages[0], query_params=_kept_params())
        return
    for p in pages:
        if p.url_path == want:
            st.switch_page(p, query_params=st.query_params.to_dict())


def sidebar(u: User, lang: str) -> None:
    """Who is signed in, and the sign-out button."""
    st.sidebar.caption(t("auth_whoami", lang, user=md(u.username), role=role_name(u.role, lang),
                         scope=scope_name(u.scope_code, lang)))
    s = st.session_state.get(SESSION_KEY) or {}
    if s.get("token") and _cookie() != s["token"]:
        with st.sidebar:
            _set_cookie(s["token"])
    if st.sidebar.button(t("auth_sign_out", lang), key="auth_sign_out", icon=":material/logout:"):
        audit.record(data.engine().store, u.username, "sign_out", u.username)
        accounts.close_session(data.engine().store, s.get("token"))
        forget_session()
        if _oidc_configured() and getattr(st.user, "is_logged_in", False):
            # the browser goes to /auth/logout (and the provider's end-session page), then back to a new
            # session at the gate; stopping here keeps that redirect the last thing this run sends
            st.logout()
            st.stop()
        st.rerun()


def _kept_params() -> dict[str, str]:
    """The URL parameters that outlive a sign-out: the language of the sign-in form only."""
    return {k: st.query_params[k] for k in KEPT_PARAMS if k in st.query_params}


def forget_session() -> None:
    """End the session's view: the next person to sign in here starts from their own default view.

    The URL (page choices, scope, regions, period) and every choice kept in the session state (pickers,
    selections, refusals seen) are cleared; what remains is the sign-in form's message, the request to
    clear the browser's cookie, and the note to open the default page after the next sign-in."""
    kept = _kept_params()
    st.query_params.clear()
    st.query_params.update(kept)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state["_auth_msg"] = "auth_signed_out"
    st.session_state["_auth_clear_cookie"] = True
    st.session_state["_auth_next"] = HOME


def guard_params(u: User, lang: str) -> None:
    """Refuse (and drop) URL parameters that name a region outside the user's scope: by code, by name, or
    inside a compound code (a problem code WT-<year>-<county>-<nnnn>); each refusal is one audit entry."""

    read = data.reader()
    geo, allowed = read.geo, read.scope.regions
    for key in list(st.query_params.keys()):
        raws = [str(v) for v in st.query_params.get_all(key)]
        bad = policy.outside_scope(raws, geo, allowed)
        if bad:
            del st.query_params[key]
            st.session_state.pop(key, None)
            refusals.deny(u, f"{key}={','.join(raws)}", f"url parameter: {','.join(bad)} outside scope {u.scope_code}",
                          t("auth_refused", lang, what=", ".join(geo.get(b).name(lang) for b in bad),
                            scope=scope_name(u.scope_code, lang)))


def require(permission: str, lang: str) -> User:
    """Stop the page unless the signed-in user holds `permission` (pages call this first)."""
    u = current_quiet()
    if u is None or not policy.can(u.role, permission):

        refusals.deny(u, f"permission={permission}", f"role {u.role if u else '-'} lacks {permission}")
        st.error(t("auth_no_permission", lang, role=role_name(u.role, lang) if u else "-"), icon=":material/block:")
        st.stop()
    return u
