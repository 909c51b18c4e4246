"""Production refusal: outside demo mode the app does not start with demo accounts or default secrets."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from auth.accounts import demo_accounts_present

DEFAULT_SECRETS = {"", "change-me", "changeme", "secret", "demo", "cockpit", "password", "postgres"}
SECRETS_FILES = (Path(".streamlit/secrets.toml"), Path.home() / ".streamlit/secrets.toml")


def _secrets() -> dict[str, Any]:
    for p in SECRETS_FILES:
        if p.is_file():
            try:
                return tomllib.loads(p.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                return {}
    return {}


def problems(store: Any, database_url: str | None = None, secrets: dict[str, Any] | None = None) -> list[str]:
    """Why this installation must not serve (empty on a demo database: demo mode is allowed)."""
    if store.is_demo():
        return []
    out: list[str] = []
    demo = demo_accounts_present(store)
    if demo:
        out.append(f"demo accounts exist on a production database: {', '.join(demo)} "
                   "(reset their passwords or disable them: python -m auth passwd/disable NAME)")
    auth_cfg = (secrets if secrets is not None else _secrets()).get("auth", {})
    if auth_cfg and str(auth_cfg.get("cookie_secret", "")).strip().lower() in DEFAULT_SECRETS:
        out.append("[auth] cookie_secret in secrets.toml is empty or a default value")
    url = database_url or ""  # checked by `./cockpit run` and `python -m auth check` (they pass the URL)
    if "://" in url:
        try:
            pw = sa.engine.make_url(url).password
        except sa.exc.ArgumentError:
            pw = None
        if pw is not None and str(pw).lower() in DEFAULT_SECRETS:
            out.append("DATABASE_URL uses a default password")
    return out
