"""What every API call shares: the engine and its cache, the token check, the rate limit, the ETag,
errors in both languages, JSON and CSV answers, and the audit entry.

Calls run in Starlette's thread pool (plain functions), so the engine, the cache and the buckets are
guarded by locks. The cache is the read boundary's memo, kept per process and keyed on the database
URL and the data version read at the start of the call: new data (written by another process, the
importer or the scheduler) makes every entry stale at once, and one call never mixes two versions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from starlette.requests import Request
from starlette.responses import Response

from auth import audit, tokens
from metrics import MetricsEngine, open_engine
from metrics.access import Memo, Reader, Scope, database_url
from metrics.values import frame_json, to_csv

PREFIX = "/api/v1"


# -- errors -------------------------------------------------------------------------------------------------
@dataclass
class ApiError(Exception):
    """An answer other than 200: the status, a stable code, the message in Chinese and English, the field."""

    status: int
    code: str
    message_zh: str
    message_en: str
    field: str | None = None

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en,
                          "field": self.field}}


def bad(field: str, zh: str, en: str) -> ApiError:
    return ApiError(400, "bad_parameter", zh, en, field)


def unknown(field: str, what_zh: str, what_en: str, value: str) -> ApiError:
    return ApiError(404, "not_found", f"未知{what_zh}：{value}", f"unknown {what_en}: {value}", field)


_REFUSED = {
    "missing": ("缺少令牌：请在 Authorization 头中提供 Bearer 令牌", "no token: send Authorization: Bearer <token>"),
    "unknown": ("令牌无效", "unknown token"),
    "expired": ("令牌已过期", "the token has expired"),
    "revoked": ("令牌已吊销", "the token has been revoked"),
}


# -- the engine and the cache ---------------------------------------------------------------------------------
_engines: dict[str, MetricsEngine] = {}
_engine_lock = threading.Lock()


def engine(url: str) -> MetricsEngine:
    """One engine per database URL and process (its pool reconnects by itself after an outage)."""
    with _engine_lock:
        eng = _engines.get(url)
        if eng is None:
            eng = _engines[url] = open_engine(url)
        return eng


class ProcessMemo:
    """The read boundary's memo for one process: per read function, a small LRU keyed on the
    database URL, the data version and the arguments (the engine is the URL's, so not part of it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._caches: dict[Callable[..., Any], OrderedDict[tuple, Any]] = {}

    def clear(self) -> None:
        with self._lock:
            self._caches.clear()

    def bind(self, url: str, version: int) -> Memo:
        def memo(fn: Callable[..., Any]) -> Callable[..., Any]:
            size = int(getattr(fn, "cache_entries", 64))

            def call(eng: MetricsEngine, *args: Any) -> Any:
                key = (url, version, args)
                with self._lock:
                    cache = self._caches.setdefault(fn, OrderedDict())
                    if key in cache:
                        cache.move_to_end(key)
                        return cache[key]
                value = fn(eng, *args)  # computed outside the lock: two misses at once both compute, once each
                with self._lock:
                    cache[key] = value
                    # entries of an older data version can never be read again: drop them first
                    for k in [k for k in cache if k[1] != version and k[0] == url]:
                        del cache[k]
                    while len(cache) > size:
                        cache.popitem(last=False)
                return value

            return call

        return memo


MEMO = ProcessMemo()


# -- the rate limit -------------------------------------------------------------------------------------------
class Buckets:
    """A token bucket per API token: `rate` calls per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        self.rate = float(rate if rate is not None else os.environ.get("COCKPIT_API_RATE", "10"))
        self.burst = float(burst if burst is not None else os.environ.get("COCKPIT_API_BURST", "30"))
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, name: str, now: float | None = None) -> float:
        """0 when the call may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            level, at = self._state.get(name, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level >= 1:
                self._state[name] = (level - 1, now)
                return 0.0
            self._state[name] = (level, now)
            return (1 - level) / self.rate if self.rate > 0 else 3600.0


LIMITER = Buckets()


# -- one call ---------------------------------------------------------------------------------------------------
@dataclass
class Call:
    """What an endpoint gets: the reader (the token's scope), the query parameters, the path parameters."""

    reader: Reader
    params: dict[str, str]
    path_params: dict[str, Any]
    version: int
    token: str


@dataclass
class Answer:
    """An endpoint's answer: the JSON body (frames in it are written as arrays of rows), and the frame
    its CSV form is."""

    body: dict[str, Any]
    frame: pd.DataFrame | None = None


def wants_csv(params: dict[str, str], accept: str) -> bool:
    fmt = params.get("format")
    if fmt is not None:
        if fmt not in ("json", "csv"):
            raise bad("format", "format 只能是 json 或 csv", "format must be json or csv")
        return fmt == "csv"
    return "text/csv" in accept.lower()


def etag(version: int, scope: str, path: str, query: str, csv: bool) -> str:
    """The data version plus what was asked (path, sorted query, scope, format): one figure set, one tag."""
    key = "|".join([scope, path, "&".join(sorted(query.split("&"))), "csv" if csv else "json"])
    return f'W/"v{version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"'


def encode(body: Any) -> str:
    """JSON text of `body`; a frame among its top-level values is written by pandas (metrics.values)."""
    if not isinstance(body, dict) or not any(isinstance(v, pd.DataFrame) for v in body.values()):
        return json.dumps(body, ensure_ascii=False, default=str, allow_nan=False)
    parts = [f"{json.dumps(k)}: {frame_json(v) if isinstance(v, pd.DataFrame) else encode(v)}"
             for k, v in body.items()]
    return "{" + ", ".join(parts) + "}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = encode(body).encode("utf-8")
    return Response(data, status_code=status, media_type="application/json; charset=utf-8", headers=headers)


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(err.body(), err.status, headers)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def _audit(eng: MetricsEngine, who: str | None, action: str, path: str, query: str, scope: str | None,
           result: int) -> None:
    detail = f"{path}{'?' + query if query else ''} scope={scope or '-'} result={result}"
    # not swallowed: a call that cannot be logged is not answered (the database is down anyway)
    audit.record(eng.store, who, action, path[:255], detail)


def handle(request: Request, endpoint: Callable[[Call], Answer]) -> Response:
    """Run one API call: token, rate limit, ETag, the read, the answer, the audit entry."""
    path, query = request.url.path, request.url.query
    params = dict(request.query_params)
    url = database_url()
    eng = engine(url)
    tok, why = tokens.lookup(eng.store, bearer(request.headers.get("authorization")))
    if why:
        err = ApiError(401, "unauthorized", *_REFUSED[why])
        _audit(eng, tok.name if tok else None, "denied", path, query, tok.scope_code if tok else None, 401)
        return error_response(err, {"WWW-Authenticate": 'Bearer realm="cockpit"'})
    assert tok is not None
    wait = LIMITER.take(tok.name)
    if wait:
        _audit(eng, tok.name, "denied", path, query, tok.scope_code, 429)
        return error_response(ApiError(429, "rate_limited", "请求过于频繁，请稍后再试",
                                       "too many requests: slow down"),
                              {"Retry-After": str(max(1, math.ceil(wait)))})
    try:
        csv = wants_csv(params, request.headers.get("accept", ""))
        version = int(eng.data_version())
        tag = etag(version, tok.scope_code, path, query, csv)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache", "X-Data-Version": str(version)}
        if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            _audit(eng, tok.name, "api_read", path, query, tok.scope_code, 304)
            return Response(status_code=304, headers=headers)
        reader = Reader(eng, Scope.of(tok.scope_code, eng.geo), MEMO.bind(url, version))
        ans = endpoint(Call(reader, params, dict(request.path_params), version, tok.name))
    except ApiError as err:
        _audit(eng, tok.name, "denied" if err.status == 403 else "api_read", path, query, tok.scope_code,
               err.status)
        return error_response(err)
    except PermissionError as exc:
        # the read boundary refused an explicit region outside the token's scope
        _audit(eng, tok.name, "denied", path, query, tok.scope_code, 403)
        codes = str(exc).rpartition(": ")[2]
        return error_response(ApiError(403, "forbidden", f"超出令牌的数据范围：{codes}",
                                       f"outside the token's scope: {codes}", _scope_field(params)))
    _audit(eng, tok.name, "api_read", path, query, tok.scope_code, 200)
    if csv:
        if ans.frame is None:
            raise AssertionError("an endpoint without a CSV form")
        return Response(to_csv(ans.frame), media_type="text/csv; charset=utf-8", headers=headers)
    return json_response(ans.body, headers=headers)


def _scope_field(params: dict[str, str]) -> str | None:
    for f in ("regions", "pop"):
        if f in params:
            return f
    return None

