"""One GET through the API's ASGI routes inside this process, no socket.

Shared by the API tests and the API bench: both want exactly what a consuming system's request meets
(token check, audit entry, ETag, body) without a server to start.
"""

from __future__ import annotations

import asyncio
from typing import Any


def get(app: Any, path: str, query: str = "", headers: dict[str, str] | None = None,
        client: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of GET `path`?`query` on the ASGI `app`."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("testserver", 80), "client": (client, 5000),
    }
    out: dict[str, Any] = {"body": b"", "headers": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"]
