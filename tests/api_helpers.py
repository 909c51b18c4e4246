"""A small in-process client for the API's Starlette routes (tests/test_api.py).

Starlette's TestClient needs httpx, which only the single sign-on extra brings; the routes are a
plain ASGI app, so one request is one `app(scope, receive, send)` call on an event loop (`ip` sets the
caller's address, for the per-address limit on refused tokens).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.routing import Router

import api


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
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in hdrs.items()],
            "server": ("testserver", 80), "client": (ip, 5000),
        }
        out: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
                out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        asyncio.run(self.app(scope, receive, send))
        return Reply(out["status"], out["headers"], out["body"])
