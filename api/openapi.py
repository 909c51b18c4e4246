"""The OpenAPI 3 document of the API, written by hand (Starlette generates none; see README, Dependencies).

It lists every path with its parameters, the two answer formats, the ETag and the error body, so a
consuming system can generate a client; tests check that every route is described and vice versa.
"""

from __future__ import annotations

from typing import Any

from metrics.values import COLUMNS

ASK_MAX = 200  # characters of a question (api.endpoints checks it)

_TEXT = {"type": "string"}


def _param(name: str, description: str, required: bool = False, where: str = "query",
           schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema or _TEXT}


PERIOD = _param("period", "2024-06, 2024-Q2, 2024 or 2024-06-YTD; default: the latest month")
FORMAT = _param("format", "json (default) or csv (UTF-8 with BOM); `Accept: text/csv` works too",
                schema={"type": "string", "enum": ["json", "csv"]})
REGIONS = _param("regions", "comma-separated region codes or names; default: every region in the token's scope")
KPIS = _param("kpis", "comma-separated KPI codes; default: all")
POP = _param("pop", "counties, cities, city:<code>, group:<code> or townships; default: counties")


def _ok(description: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "headers": {"ETag": {"schema": _TEXT, "description": "the data version and the query"},
                        "X-Data-Version": {"schema": {"type": "integer"}}},
            "content": {
                "application/json": {"schema": {"type": "object", "required": ["data", "meta"], "properties": {
                    "data": {"type": "array", "items": item}, "meta": {"type": "object"}}}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        "304": {"description": "not modified (If-None-Match matched the ETag)"},
        "400": {"$ref": "#/components/responses/Error"},
        "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/RateLimited"},
    }


def _get(summary: str, params: list[dict[str, Any]], item: dict[str, Any], op: str) -> dict[str, Any]:
    return {"get": {"operationId": op, "summary": summary, "parameters": [*params, FORMAT],
                    "responses": _ok(summary, item)}}


def _obj(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": {n: {} for n in names}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document (paths relative to the server, which serves them under /api/v1)."""
    value_row = {"type": "object", "properties": {c: {} for c in COLUMNS}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "浙江数字化改革驾驶舱 KPI API", "version": "1.0.0",
                 "description": "Read-only figures of the cockpit, within the token's scope. "
                                "Authorization: Bearer <token> (python -m auth token create)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/kpis": _get("KPI catalogue: definitions, units, direction, targets with source", [],
                          _obj("code", "name_zh", "name_en", "unit_zh", "direction", "targets"), "kpis"),
            "/values": _get("Figures of a period x regions x KPIs", [PERIOD, REGIONS, KPIS], value_row, "values"),
            "/trend": _get("Monthly values up to a month", [
                _param("kpis", "comma-separated KPI codes", required=True),
                _param("regions", "comma-separated region codes; default: the token's scope region"),
                _param("end", "the last month (2024-06); default: the latest month"),
                _param("months", "how many months, 1-60; default 12", schema={"type": "integer", "minimum": 1,
                                                                               "maximum": 60}),
            ], _obj("kpi", "region", "month", "value", "numerator", "denominator"), "trend"),
            "/league": _get("A KPI's league table", [_param("kpi", "a KPI code", required=True), PERIOD, POP],
                            _obj("region", "rank", "rank_of", "value", "target", "status", "standing"), "league"),
            "/schemes/{code}": _get("A composite evaluation's scores (components in the JSON body)", [
                _param("code", "the scheme code", required=True, where="path"), PERIOD, POP,
            ], _obj("region", "score", "rank", "rank_of", "tier"), "scheme"),
            "/quality": _get("Who has not reported", [PERIOD],
                             _obj("region", "n_kpis", "n_reported", "complete", "overdue", "kpis_not_reported"),
                             "quality"),
            "/ask": _get("问数: a question in Chinese or English answered within the token's scope: the reading, "
                         "the sentence, the figures, the table (data) and the link to the page view; a "
                         "clarification is an answer of kind 'clarify'; a region outside the scope is a 403", [
                _param("q", f"the question, e.g. 上个月丽水哪些县一网通办率没达标？ (at most {ASK_MAX} characters)",
                       required=True),
                _param("lang", "zh (default) or en", schema={"type": "string", "enum": ["zh", "en"]}),
            ], {"type": "object", "description": "a row of the answer's table"}, "ask"),
            "/health": {"get": {"operationId": "health", "summary": "Up when the database answers (no token)",
                                "security": [], "responses": {
                                    "200": {"description": "up", "content": {"application/json": {
                                        "schema": _obj("status", "data_version")}}},
                                    "503": {"description": "the database does not answer"}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                                      "responses": {"200": {"description": "the OpenAPI document"}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message_zh", "message_en"],
                "properties": {"code": _TEXT, "message_zh": _TEXT, "message_en": _TEXT,
                               "field": {"type": "string", "nullable": True}}}}}},
            "responses": {
                "Error": {"description": "an error", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}},
                "RateLimited": {"description": "too many requests", "headers": {
                    "Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        },
    }
