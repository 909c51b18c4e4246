"""The read-only HTTP API other systems read the cockpit's figures with (`/api/v1/...`).

Starlette routes mounted beside the app by server.py (`routes()`); every read goes through the read
boundary (metrics.access.Reader) with the calling token's scope, so the API applies no scope rule of
its own. `service` holds what every call shares (tokens, rate limit, cache, ETag, errors, audit),
`endpoints` the reads, `openapi` the OpenAPI 3 document describing them.
"""

from __future__ import annotations

from api.endpoints import routes

__all__ = ["routes"]
