"""Tokens of the read-only HTTP API: created, listed and revoked by the administrator, checked per call.

A token is `ck_` + 43 random URL-safe characters, printed once by `python -m auth token create`; the
database keeps its SHA-256 only (a fast hash is right here: the token is random and long, nothing
to guess, unlike a password). Each token carries a scope (the province, a city or a county:
metrics.access.Scope) and an expiry; revoking keeps the row so the audit log's names stay meaningful.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from auth import audit
from metrics.access import Scope
from metrics.geography import geography
from store.schema_api import api_token

PREFIX = "ck_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN = re.compile(r"^ck_[A-Za-z0-9_-]{20,128}$")
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often per token (one write, not one per call)


@dataclass(frozen=True)
class ApiToken:
    name: str
    scope_code: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def state(self, now: dt.datetime | None = None) -> str:
        """active | expired | revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or _now()) else "active"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _engine(target: Any) -> sa.Engine:
    return audit._engine(target)


def valid_name(name: str) -> bool:
    """Whether `name` may name a token: letters, digits, . _ - (up to 64), starting with a letter or digit."""
    return bool(_NAME.match(name))


def create(target: Any, name: str, scope_code: str, days: int, *, by: str | None = None) -> str:
    """Store a new token named `name` for `scope_code`, valid `days` days; return the token (shown once)."""
    if not valid_name(name):
        raise ValueError(f"token name {name!r}: letters, digits, . _ - (up to 64)")
    if not 1 <= days <= 3660:
        raise ValueError(f"--days {days}: between 1 and 3660")
    Scope.of(scope_code, geography())  # refuses anything but the province, a city or a county
    token = PREFIX + secrets.token_urlsafe(32)
    now = _now()
    eng = _engine(target)
    with eng.begin() as c:
        if c.execute(sa.select(api_token.c.name).where(api_token.c.name == name)).first():
            raise ValueError(f"a token named {name!r} exists (revoke it, then create it under a new name)")
        c.execute(api_token.insert().values(name=name, scope_code=scope_code, token_hash=digest(token),
                                            created_at=now, expires_at=now + dt.timedelta(days=days)))
        audit.record(eng, by, "api_token_create", name, f"scope={scope_code} days={days}", conn=c)
    return token


def list_tokens(target: Any) -> list[ApiToken]:
    with _engine(target).connect() as c:
        rows = c.execute(sa.select(api_token).order_by(api_token.c.name)).mappings().all()
    return [ApiToken(**{k: v for k, v in r.items() if k != "token_hash"}) for r in rows]


def revoke(target: Any, name: str, *, by: str | None = None) -> None:
    eng = _engine(target)
    with eng.begin() as c:
        n = c.execute(api_token.update().where(api_token.c.name == name, api_token.c.revoked_at.is_(None))
                      .values(revoked_at=_now())).rowcount
        if not n:
            raise ValueError(f"no active token named {name!r}")
        audit.record(eng, by, "api_token_revoke", name, conn=c)


_touched: dict[str, dt.datetime] = {}
_lock = threading.Lock()


def lookup(target: Any, token: str | None) -> tuple[ApiToken | None, str]:
    """The token's row and why it is refused ("" when it may read): missing | unknown | expired | revoked."""
    if not token:
        return None, "missing"
    if not _TOKEN.match(token):
        return None, "unknown"
    eng = _engine(target)
    with eng.connect() as c:
        row = c.execute(sa.select(api_token).where(api_token.c.token_hash == digest(token))).mappings().first()
    if row is None:
        return None, "unknown"
    tok = ApiToken(**{k: v for k, v in row.items() if k != "token_hash"})
    state = tok.state()
    if state != "active":
        return tok, state
    now = _now()
    with _lock:
        due = now - _touched.get(tok.name, dt.datetime.min) >= TOUCH_EVERY
        if due:
            _touched[tok.name] = now
    if due:
        with eng.begin() as c:
            c.execute(api_token.update().where(api_token.c.name == tok.name).values(last_used_at=now))
        tok = replace(tok, last_used_at=now)
    return tok, ""
