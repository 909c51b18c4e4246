"""The session cookie, set by the server so that page scripts can never read it.

Streamlit has no way to set a cookie from a script run, and a cookie written by JavaScript cannot
be HttpOnly. So the page asks the server (`POST /_cockpit/session` with the token it was just
given) and the server answers with the Set-Cookie header: HttpOnly, SameSite=Strict, and Secure
when the request came over TLS (directly or through the proxy's X-Forwarded-Proto) or when
COCKPIT_COOKIE_SECURE=1 forces it; COCKPIT_COOKIE_SECURE=0 never sets it (plain-http test set-ups).
Only a token that names a live session is accepted, and only with the custom header below, which
a cross-site form cannot send without a CORS preflight that this route never grants.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

NAME = "cockpit_session"  # a random token; the database holds its hash (auth.accounts.open_session)
PATH = "/_cockpit/session"
HEADER = "X-Cockpit-Session"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def secure(scheme: str, forwarded_proto: str | None) -> bool:
    """Whether the cookie gets the Secure flag for a request over `scheme` (see the module doc)."""
    forced = os.environ.get("COCKPIT_COOKIE_SECURE", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    proto = (forwarded_proto or "").split(",")[0].strip().lower()
    return scheme == "https" or proto == "https"


def header_value(token: str | None, is_secure: bool, max_age: int | None = None) -> str:
    """The Set-Cookie value: the token (or an expired empty cookie when `token` is None)."""
    parts = [f"{NAME}={token or ''}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if token is None:
        parts.append("Max-Age=0")
    elif max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_secure:
        parts.append("Secure")
    return "; ".join(parts)


def valid_token(token: str) -> bool:
    return bool(_TOKEN.match(token))


def route(session_exists: Callable[[str], bool], base_path: str = "") -> Any:
    """The Starlette route (POST: set the cookie for a live session token; DELETE: clear it)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        if request.headers.get(HEADER) != "1":
            return Response("missing header", status_code=400)
        is_secure = secure(request.url.scheme, request.headers.get("x-forwarded-proto"))
        headers = {"Cache-Control": "no-store"}
        if request.method == "DELETE":
            return Response(status_code=204, headers={**headers, "Set-Cookie": header_value(None, is_secure)})
        token = (await request.body())[:256].decode("ascii", "replace").strip()
        if not valid_token(token) or not await run_in_threadpool(session_exists, token):
            return Response("unknown session", status_code=403, headers=headers)
        return Response(status_code=204, headers={**headers, "Set-Cookie": header_value(token, is_secure)})

    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return Route(base + PATH, endpoint, methods=["POST", "DELETE"])
