"""What every API call shares: the engine and its cache, the token check, the rate limit, the ETag,
errors in both languages, JSON and CSV answers, and the audit entry.

Calls run in Starlette's thread pool (plain functions), so the engine, the cache and the buckets are
guarded by locks. The cache is the read boundary's memo, kept per process and keyed on the database
URL and the data version read at the start of the call: new data (written by another process, the
importer or the scheduler) makes every entry stale at once, and one call never mixes two versions.
On top of it the serialised answers are kept (BodyCache, per scope, path, normalised query, format and
data version): a repeated pull costs the token check, the audit entry and a look-up.

Two limits: a token bucket per token (429 beyond its rate), and per client address a count of 401
answers in the last minute (from COCKPIT_API_AUTH_FAILURES on, 429 before any token is looked at).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections import OrderedDict, deque
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


class FailedAuth:
    """Answers of 401 per client address over the last minute: from `limit` on, that address gets 429
    for every call until the minute has passed, before its token is even looked at (so a run of guessed
    tokens costs no database read, and a 429 says nothing about whether a token was good)."""

    WINDOW_S = 60.0

    def __init__(self, limit: int | None = None) -> None:
        self.limit = int(limit if limit is not None else os.environ.get("COCKPIT_API_AUTH_FAILURES", "20"))
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, ip: str, now: float) -> deque[float]:
        q = self._seen.get(ip)
        if q is None:
            return deque()
        while q and now - q[0] >= self.WINDOW_S:
            q.popleft()
        if not q:
            del self._seen[ip]
        return q

    def blocked(self, ip: str, now: float | None = None) -> float:
        """0 when `ip` may call, else the seconds until its oldest counted failure leaves the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._recent(ip, now)
            return self.WINDOW_S - (now - q[0]) if len(q) >= self.limit else 0.0

    def failed(self, ip: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(ip, now)
            self._seen.setdefault(ip, deque()).append(now)
            if len(self._seen) > 10_000:  # a flood from many addresses: forget the quietest
                for k in sorted(self._seen, key=lambda k: self._seen[k][-1])[:1_000]:
                    del self._seen[k]


FAILED_AUTH = FailedAuth()
TRUSTED_PROXIES = frozenset(x.strip() for x in os.environ.get("COCKPIT_TRUSTED_PROXIES", "127.0.0.1,::1").split(",")
                            if x.strip())


def client_ip(request: Request) -> str:
    """The caller's address: the peer, or behind a trusted proxy (nginx on the host) the address the
    proxy saw (the last X-Forwarded-For entry: the one it appended itself)."""
    peer = request.client.host if request.client else "-"
    fwd = request.headers.get("x-forwarded-for")
    if fwd and peer in TRUSTED_PROXIES:
        return fwd.split(",")[-1].strip() or peer
    return peer


# -- the answers' bodies ----------------------------------------------------------------------------------------
class BodyCache:
    """Serialised answers (JSON or CSV bytes) per database, data version, scope, path and normalised query:
    a repeated pull is a dictionary look-up, not a read plus serialisation. An LRU bounded by entries
    and bytes; entries of an older data version are dropped when a newer one is stored."""

    def __init__(self, entries: int = 256, max_bytes: int = 256 * 2**20) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._data.get(key)
            if body is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: tuple, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one answer never crowds out the rest
        url, version = key[0], key[1]
        with self._lock:
            for k in [k for k in self._data if k[0] == url and k[1] != version]:
                self._bytes -= len(self._data.pop(k))
            old = self._data.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._data[key] = body
            while self._data and (len(self._data) > self.entries or self._bytes > self.max_bytes):
                self._bytes -= len(self._data.popitem(last=False)[1])


BODIES = BodyCache()


def normalised_query(request: Request) -> str:
    """The query as a cache key: parameters sorted by name (values kept in their order: a list's order
    is the order of its rows)."""
    return "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))


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


def etag(version: int, scope: str, path: str, query: str, csv: bool, today: str = "") -> str:
    """The data version plus what was asked (path, sorted query, scope, format) and the day (上个月 and
    the default period's coverage read the calendar): one figure set, one tag."""
    key = "|".join([scope, path, "&".join(sorted(query.split("&"))), "csv" if csv else "json", today])
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
           result: int, note: str | None = None) -> None:
    detail = f"{path}{'?' + query if query else ''} scope={scope or '-'} result={result}"
    if note:
        detail += f" {note}"
    # not swallowed: a call that cannot be logged is not answered (the database is down anyway)
    audit.record(eng.store, who, action, path[:255], detail)


def handle(request: Request, endpoint: Callable[[Call], Answer]) -> Response:
    """Run one API call: token, rate limit, ETag, the read, the answer, the audit entry."""
    path, query = request.url.path, request.url.query
    params = dict(request.query_params)
    url = database_url()
    eng = engine(url)
    ip = client_ip(request)
    wait = FAILED_AUTH.blocked(ip)
    if wait:
        _audit(eng, None, "denied", path, query, None, 429, f"ip={ip} after {FAILED_AUTH.limit} refused tokens")
        return error_response(ApiError(429, "rate_limited", "无效令牌过多，请稍后再试",
                                       "too many refused tokens from this address: wait"),
                              {"Retry-After": str(max(1, math.ceil(wait)))})
    tok, why = tokens.lookup(eng.store, bearer(request.headers.get("authorization")))
    if why:
        FAILED_AUTH.failed(ip)
        err = ApiError(401, "unauthorized", *_REFUSED[why])
        _audit(eng, tok.name if tok else None, "denied", path, query, tok.scope_code if tok else None, 401,
               f"ip={ip}")
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
        today = eng.today.isoformat()
        tag = etag(version, tok.scope_code, path, query, csv, today)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache", "X-Data-Version": str(version)}
        if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            _audit(eng, tok.name, "api_read", path, query, tok.scope_code, 304)
            return Response(status_code=304, headers=headers)
        key = (url, version, tok.scope_code, path, normalised_query(request), csv, today)
        body = BODIES.get(key)
        if body is None:
            reader = Reader(eng, Scope.of(tok.scope_code, eng.geo), MEMO.bind(url, version))
            ans = endpoint(Call(reader, params, dict(request.path_params), version, tok.name))
            body = _serialise(ans, csv)
            BODIES.put(key, body)
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
    media = "text/csv; charset=utf-8" if csv else "application/json; charset=utf-8"
    return Response(body, media_type=media, headers=headers)


def _serialise(ans: Answer, csv: bool) -> bytes:
    if not csv:
        return encode(ans.body).encode("utf-8")
    if ans.frame is None:
        raise AssertionError("an endpoint without a CSV form")
    return to_csv(ans.frame)


def _scope_field(params: dict[str, str]) -> str | None:
    for f in ("regions", "pop"):
        if f in params:
            return f
    return None

