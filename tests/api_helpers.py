"""A small in-process client for the API's Starlette routes (tests/test_api.py).

Starlette's TestClient needs httpx, which only the single sign-on extra brings; the routes are a
plain ASGI app, so one request is one `app(scope, receive, send)` call on an event loop (`ip` sets the
caller's address, for the per-address limit on refused tokens).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.routing import Router

import api
from api import inprocess


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    _json: Any = field(default=None, repr=False)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8-sig")


class Client:
    def __init__(self, base_path: str = "") -> None:
        self.app = Router(routes=api.routes(base_path))

    def get(self, path: str, token: str | None = None, params: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, ip: str = "127.0.0.1") -> Reply:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["authorization"] = f"Bearer {token}"
        path, _, query = path.partition("?")
        query = "&".join(q for q in (query, urlencode(params or {})) if q)
        return Reply(*inprocess.get(self.app, path, query, hdrs, ip))
