"""Local accounts: create, disable, reset, change role/scope, list; sign-in with throttling.

Throttle: after MAX_FAILURES failed sign-ins in a row an account is locked for LOCK_MINUTES (kept
in the database, so it holds across app processes and restarts); a success resets the count.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from auth import audit
from auth.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from auth.policy import ROLES, scope_of, scope_regions
from metrics.geography import PROVINCE
from store.schema_auth import app_user, auth_session

MAX_FAILURES = int(os.environ.get("COCKPIT_MAX_FAILURES", "5"))
LOCK_MINUTES = int(os.environ.get("COCKPIT_LOCK_MINUTES", "15"))

# Demo accounts (demo database only; production refuses to start while any exists).
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [  # username, password, role, scope
    ("leader", "leader-demo", "leader", PROVINCE),
    ("lishui_leader", "lishui-demo", "leader", "331100"),
    ("office", "office-demo", "office", PROVINCE),
    ("analyst", "analyst-demo", "analyst", PROVINCE),
    ("officer_330102", "officer-demo", "officer", "330102"),
    ("admin", "admin-demo", "admin", PROVINCE),
]


@dataclass(frozen=True)
class User:
    username: str
    role: str
    scope_code: str
    display_name: str | None = None
    email: str | None = None
    disabled: bool = False
    is_demo: bool = False

    @property
    def scope(self):
        return scope_of(self.scope_code)


class SignInError(Exception):
    """Refused sign-in; `reason` is bad_credentials | locked | disabled (one message for the first
    and the third is fine: the page shows the same text, so nothing about accounts leaks)."""

    def __init__(self, reason: str, until: dt.datetime | None = None) -> None:
        super().__init__(reason)
        self.reason, self.until = reason, until


def _engine(target: Any) -> sa.Engine:
    return audit._engine(target)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _validate(role: str, scope_code: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    scope_regions(scope_code)  # raises for anything but province / city / county
    if role == "officer" and scope_of(scope_code).full:
        raise ValueError("a county data officer is scoped to one county")
    if role == "officer" and len(scope_of(scope_code).regions) != 1:
        raise ValueError("a county data officer is scoped to one county")


def _user(row: Any) -> User:
    return User(row.username, row.role, row.scope_code, row.display_name, row.email, bool(row.disabled),
                bool(row.is_demo))


def get_user(target: Any, username: str) -> User | None:
    with _engine(target).connect() as c:
        row = c.execute(sa.select(app_user).where(app_user.c.username == username)).first()
    return _user(row) if row else None


def find_by_email(target: Any, email: str) -> User | None:
    """The local account an OpenID Connect identity maps to (by e-mail, else by user name)."""
    with _engine(target).connect() as c:
        row = c.execute(sa.select(app_user).where(sa.func.lower(app_user.c.email) == email.lower())).first()
    return _user(row) if row else get_user(target, email)


def list_users(target: Any) -> list[User]:
    with _engine(target).connect() as c:
        return [_user(r) for r in c.execute(sa.select(app_user).order_by(app_user.c.username))]


class UsernameError(ValueError):
    """A user name outside the allowed set (the admin page shows its own translated message)."""


def check_username(username: str) -> str:
    """The name, or ValueError: 1–64 letters, digits, CJK characters and `._-`, nothing else.

    A name is shown to other users (sidebar, audit log, 批示 history): markup characters, spaces,
    control, zero-width and bidi characters, and compatibility forms (full-width ａ for a) would let
    one account pass for another or carry markdown to someone else's browser.
    """
    if not username or len(username) > 64:
        raise UsernameError("user name must have 1 to 64 characters")
    if unicodedata.normalize("NFKC", username) != username:
        raise UsernameError("user name must not use compatibility forms (full-width letters and the like)")
    bad = [c for c in username if not (c in "._-" or (c.isalnum() and unicodedata.category(c)[0] in "LN"))]
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
        raise UsernameError(f"user name may hold letters, digits, CJK characters and . _ - only (not {shown})")
    return username


def create_user(target: Any, username: str, password: str, role: str, scope_code: str = PROVINCE, *,
                email: str | None = None, display_name: str | None = None, by: str | None = None,
                is_demo: bool = False) -> User:
    username = check_username(username.strip())
    _validate(role, scope_code)
    now = _now()
    with _engine(target).begin() as c:
        if c.execute(sa.select(app_user.c.username).where(app_user.c.username == username)).first():
            raise ValueError(f"user {username!r} already exists")
        c.execute(app_user.insert().values(
            username=username, password_hash=hash_password(password), role=role, scope_code=scope_code,
            email=email or None, display_name=display_name or None, disabled=False, is_demo=is_demo,
            failed_count=0, created_at=now, updated_at=now))
        audit.record(None, by or "cli", "account_create", username, f"role={role} scope={scope_code}", conn=c)
    return User(username, role, scope_code, display_name, email, False, is_demo)


def _update(target: Any, username: str, action: str, detail: str, by: str | None, **values: Any) -> None:
    with _engine(target).begin() as c:
        n = c.execute(app_user.update().where(app_user.c.username == username)
                      .values(updated_at=_now(), **values)).rowcount
        if not n:
            raise ValueError(f"no user {username!r}")
        audit.record(None, by or "cli", action, username, detail, conn=c)


def set_password(target: Any, username: str, password: str, *, by: str | None = None) -> None:
    """Reset a password (also lifts a lock and clears the demo mark: it is no longer the demo one)."""
    _update(target, username, "account_password", "password reset", by, password_hash=hash_password(password),
            failed_count=0, locked_until=None, is_demo=False)


def set_disabled(target: Any, username: str, disabled: bool = True, *, by: str | None = None) -> None:
    """Disable (ending the account's browser sessions) or enable an account."""
    _update(target, username, "account_disable" if disabled else "account_change",
            "disabled" if disabled else "enabled", by, disabled=disabled)
    if disabled:
        with _engine(target).begin() as c:
            c.execute(auth_session.delete().where(auth_session.c.username == username))


def set_role(target: Any, username: str, role: str, scope_code: str, *, by: str | None = None) -> None:
    _validate(role, scope_code)
    _update(target, username, "account_change", f"role={role} scope={scope_code}", by, role=role,
            scope_code=scope_code)


def authenticate(target: Any, username: str, password: str, now: dt.datetime | None = None) -> User:
    """Check a password; count failures, lock after MAX_FAILURES, audit both outcomes."""
    now = now or _now()
    eng = _engine(target)
    with eng.connect() as c:
        row = c.execute(sa.select(app_user).where(app_user.c.username == username)).first()
    if row is None:
        verify_password(DUMMY_HASH, password)
        audit.record(eng, username, "sign_in_failed", username, "unknown user")
        raise SignInError("bad_credentials")
    if row.locked_until is not None and row.locked_until > now:
        verify_password(DUMMY_HASH, password)  # the same time as any other refusal
        audit.record(eng, username, "sign_in_failed", username, "locked")
        raise SignInError("locked", row.locked_until)
    if row.disabled:
        verify_password(DUMMY_HASH, password)
        audit.record(eng, username, "sign_in_failed", username, "disabled")
        raise SignInError("disabled")
    if not verify_password(row.password_hash, password):
        failures = (row.failed_count or 0) + 1
        locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
        with eng.begin() as c:
            c.execute(app_user.update().where(app_user.c.username == username).values(
                failed_count=0 if locked else failures, locked_until=locked))
            audit.record(None, username, "sign_in_failed", username,
                         f"bad password ({failures})" + (f", locked until {locked}" if locked else ""), conn=c)
        if locked:
            raise SignInError("locked", locked)
        raise SignInError("bad_credentials")
    values: dict[str, Any] = {"failed_count": 0, "locked_until": None, "last_login_at": now}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with eng.begin() as c:
        c.execute(app_user.update().where(app_user.c.username == username).values(**values))
        audit.record(None, username, "sign_in", username, f"role={row.role} scope={row.scope_code}", conn=c)
    return _user(row)


def ensure_demo_accounts(target: Any) -> list[tuple[str, str, str, str]]:
    """Create the missing demo accounts (callers make sure the database is a demo database)."""
    have = {u.username for u in list_users(target)}
    for name, pw, role, scope in DEMO_ACCOUNTS:
        if name not in have:
            create_user(target, name, pw, role, scope, is_demo=True, by="demo")
    return DEMO_ACCOUNTS


def demo_accounts_present(target: Any) -> list[str]:
    """Demo accounts still holding their demo password (or marked demo)."""
    with _engine(target).connect() as c:
        return [r.username for r in c.execute(sa.select(app_user.c.username).where(app_user.c.is_demo))]


# -- browser sessions (a cookie token; the database keeps only its hash) ------------------------------------
def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def open_session(target: Any, username: str) -> str:
    """A new random session token for `username` (the cookie value)."""
    import secrets

    token = secrets.token_urlsafe(32)
    now = _now()
    with _engine(target).begin() as c:
        c.execute(auth_session.insert().values(token_hash=_token_hash(token), username=username, created_at=now,
                                               last_seen=now))
    return token


def resume_session(target: Any, token: str, idle_minutes: float, now: dt.datetime | None = None) -> User | None:
    """The user of a live session token (touching it), or None: unknown, idle too long, account disabled."""
    now = now or _now()
    h = _token_hash(token)
    eng = _engine(target)
    with eng.begin() as c:
        row = c.execute(sa.select(auth_session).where(auth_session.c.token_hash == h)).first()
        if row is None:
            return None
        if row.last_seen < now - dt.timedelta(minutes=idle_minutes):
            c.execute(auth_session.delete().where(auth_session.c.token_hash == h))
            return None
        c.execute(auth_session.update().where(auth_session.c.token_hash == h).values(last_seen=now))
    u = get_user(eng, row.username)
    return None if u is None or u.disabled else u


def session_exists(target: Any, token: str) -> bool:
    """Whether `token` names a live browser session (without touching its idle clock)."""
    with _engine(target).connect() as c:
        return c.execute(sa.select(auth_session.c.username)
                         .where(auth_session.c.token_hash == _token_hash(token))).first() is not None


def close_session(target: Any, token: str | None) -> None:
    if token:
        with _engine(target).begin() as c:
            c.execute(auth_session.delete().where(auth_session.c.token_hash == _token_hash(token)))
