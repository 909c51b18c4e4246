"""The read-only HTTP API: every endpoint in JSON and CSV, ETag/304, each error's body, the rate limit,
tokens (CLI, expiry, revocation), the audit entries, and above all the scope: a city or county token
never gets a row outside its scope from any endpoint, and is refused an explicit region outside it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from api import openapi, service
from auth import audit, tokens
from metrics.access import Scope
from metrics.geography import geography
from metrics.values import COLUMNS
from store import Store
from store.schema_api import api_token
from tests.api_helpers import Client
from tests.helpers import copy_sqlite

PERIOD = "2022-03"
CITY, COUNTY = "331100", "331102"  # 丽水 and its 莲都区
OTHER_CITY, OTHER_COUNTY = "330100", "330102"
KPI, RATE = "zlb_dau", "zzd_active_rate"
SCHEME = "digital_government"

# every endpoint with a query that returns rows; the column naming the region of each row
ENDPOINTS = {
    "kpis": ("/api/v1/kpis", {}, None),
    "values": ("/api/v1/values", {"period": PERIOD}, "region"),
    "trend": ("/api/v1/trend", {"kpis": f"{KPI},{RATE}", "end": PERIOD, "months": "3"}, "region"),
    "league": ("/api/v1/league", {"kpi": RATE, "period": PERIOD}, "region"),
    "scheme": (f"/api/v1/schemes/{SCHEME}", {"period": PERIOD}, "region"),
    "quality": ("/api/v1/quality", {"period": PERIOD}, "region"),
}
# the same endpoints asking for a region outside a 丽水 token's scope (kpis and quality name no region)
OUT_OF_SCOPE = {
    "values": ("/api/v1/values", {"period": PERIOD, "regions": f"{CITY},{OTHER_COUNTY}"}),
    "trend": ("/api/v1/trend", {"kpis": KPI, "end": PERIOD, "regions": OTHER_CITY}),
    "league": ("/api/v1/league", {"kpi": RATE, "period": PERIOD, "pop": f"city:{OTHER_CITY}"}),
    "scheme": (f"/api/v1/schemes/{SCHEME}", {"period": PERIOD, "pop": f"city:{OTHER_CITY}"}),
}


@pytest.fixture(scope="module")
def api_db(app_db, tmp_path_factory) -> str:
    """A private copy of the demo database with tokens: province, city, county, expired, revoked."""
    path = tmp_path_factory.mktemp("api") / "api.sqlite"
    copy_sqlite(app_db, path)
    url = f"sqlite:///{path}"
    Store(url).migrate()
    return url


@pytest.fixture(scope="module")
def toks(api_db) -> dict[str, str]:
    store = Store(api_db)
    out = {name: tokens.create(store, name, scope, 30) for name, scope in
           (("prov", "330000"), ("city", CITY), ("county", COUNTY), ("old", CITY), ("gone", CITY))}
    with store.engine.begin() as c:
        c.execute(api_token.update().where(api_token.c.name == "old")
                  .values(expires_at=dt.datetime.now() - dt.timedelta(days=1)))
    tokens.revoke(store, "gone")
    return out


@pytest.fixture(autouse=True)
def _fresh(api_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", api_db)
    monkeypatch.setattr(service, "LIMITER", service.Buckets(rate=1000, burst=1000))
    monkeypatch.setattr(service, "FAILED_AUTH", service.FailedAuth(limit=1000))


@pytest.fixture
def client() -> Client:
    return Client()


def _rows_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- each endpoint, JSON and CSV ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_each_endpoint_answers_json_and_csv(client, toks, name):
    path, params, _ = ENDPOINTS[name]
    r = client.get(path, toks["prov"], params)
    assert r.status == 200, r.body[:300]
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["data"], name
    assert r.headers["etag"].startswith('W/"v')
    c = client.get(path, toks["prov"], {**params, "format": "csv"})
    assert c.status == 200 and c.headers["content-type"].startswith("text/csv")
    assert c.body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese names right
    assert len(_rows_csv(c.text)) == len(body["data"])
    a = client.get(path, toks["prov"], params, headers={"accept": "text/csv"})
    assert a.status == 200 and a.body == c.body


def test_values_carry_every_column_and_agree_with_the_engine(client, toks, api_db):
    r = client.get("/api/v1/values", toks["prov"], {"period": PERIOD, "regions": "330000", "kpis": KPI}).json()
    assert list(r["data"][0]) == COLUMNS
    row = r["data"][0]
    from metrics import open_engine

    res = open_engine(api_db).value(KPI, "330000", PERIOD)
    assert row["value"] == pytest.approx(res.value) and row["status"] == res.status
    assert row["target_paced"] == pytest.approx(res.target)  # a count: judged against its 序时 target
    assert row["target"] > row["target_paced"] and row["data_version"] == r["meta"]["data_version"]


def test_csv_is_formula_safe(client, toks):
    text = client.get("/api/v1/values", toks["prov"], {"period": PERIOD, "format": "csv"}).text
    for row in _rows_csv(text):
        assert not any(v.startswith(("=", "+", "@")) for v in row.values())
        assert not row["change_prev"].startswith("'")  # numbers stay numbers, -0.1 is not a formula


# -- the scope -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who,scope", [("city", CITY), ("county", COUNTY)])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_scoped_token_never_gets_a_row_outside_its_scope(client, toks, name, who, scope):
    allowed = Scope.of(scope, geography()).regions
    path, params, col = ENDPOINTS[name]
    for fmt in ("json", "csv"):
        r = client.get(path, toks[who], {**params, "format": fmt})
        assert r.status == 200, r.body[:300]
        rows = r.json()["data"] if fmt == "json" else _rows_csv(r.text)
        if col is None:
            continue  # the catalogue is not about regions
        assert rows, (name, who)
        assert {row[col] for row in rows} <= allowed, (name, who)
    if name == "scheme":
        comps = client.get(path, toks[who], params).json()["components"]
        assert comps and {c["region"] for c in comps} <= allowed


@pytest.mark.parametrize("name", list(OUT_OF_SCOPE))
def test_an_explicit_region_outside_the_scope_is_403_and_logged(client, toks, api_db, name):
    path, params = OUT_OF_SCOPE[name]
    r = client.get(path, toks["city"], params)
    assert r.status == 403, r.body[:300]
    err = r.json()["error"]
    assert err["code"] == "forbidden" and err["message_zh"] and err["message_en"] and err["field"]
    log = audit.read(Store(api_db), user="city", action="denied", limit=1)
    assert log.iloc[0]["target"] == path and "result=403" in log.iloc[0]["detail"]
    assert client.get(path, toks["prov"], params).status == 200


def test_a_township_league_of_a_city_token_holds_its_own_townships_only(client, toks):
    r = client.get("/api/v1/league", toks["city"], {"kpi": RATE, "period": PERIOD, "pop": "counties"})
    assert {row["region"] for row in r.json()["data"]} <= Scope.of(CITY, geography()).regions


# -- ETag ------------------------------------------------------------------------------------------------------
def test_etag_answers_304_and_differs_by_query_scope_and_format(client, toks):
    params = {"period": PERIOD, "kpis": KPI}
    r = client.get("/api/v1/values", toks["prov"], params)
    tag = r.headers["etag"]
    again = client.get("/api/v1/values", toks["prov"], params, headers={"if-none-match": tag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == tag
    assert client.get("/api/v1/values", toks["city"], params).headers["etag"] != tag
    assert client.get("/api/v1/values", toks["prov"], {**params, "format": "csv"}).headers["etag"] != tag
    assert client.get("/api/v1/values", toks["prov"], {"period": PERIOD}).headers["etag"] != tag
    assert client.get("/api/v1/values", toks["prov"], params, headers={"if-none-match": 'W/"v0-x"'}).status == 200


def test_new_data_changes_the_etag(client, toks, api_db):
    r = client.get("/api/v1/kpis", toks["prov"])
    store = Store(api_db)
    with store.engine.begin() as c:
        store._bump_version(c)  # what every committed import does
    new = client.get("/api/v1/kpis", toks["prov"], headers={"if-none-match": r.headers["etag"]})
    assert new.status == 200 and new.headers["x-data-version"] == str(int(r.headers["x-data-version"]) + 1)


# -- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,params,field", [
    ("/api/v1/values", {"period": "2022-13"}, "period"),
    ("/api/v1/values", {"period": PERIOD, "region": CITY}, "region"),  # a typo is refused, not ignored
    ("/api/v1/values", {"period": PERIOD, "format": "xml"}, "format"),
    ("/api/v1/trend", {"end": PERIOD}, "kpis"),
    ("/api/v1/trend", {"kpis": KPI, "months": "0"}, "months"),
    ("/api/v1/trend", {"kpis": KPI, "end": "2022-Q1"}, "end"),
    ("/api/v1/league", {"period": PERIOD}, "kpi"),
    ("/api/v1/league", {"kpi": KPI, "period": PERIOD, "pop": "planets"}, "pop"),
])
def test_bad_parameters_are_400_naming_the_field(client, toks, path, params, field):
    r = client.get(path, toks["prov"], params)
    assert r.status == 400, r.body[:300]
    err = r.json()["error"]
    assert err == {**err, "code": "bad_parameter", "field": field} and err["message_zh"] and err["message_en"]


@pytest.mark.parametrize("path,params,field", [
    ("/api/v1/values", {"period": PERIOD, "kpis": "no_such_kpi"}, "kpis"),
    ("/api/v1/values", {"period": PERIOD, "regions": "999999"}, "regions"),
    ("/api/v1/league", {"kpi": "no_such_kpi"}, "kpis"),
    ("/api/v1/schemes/no_such_scheme", {"period": PERIOD}, "code"),
])
def test_unknown_kpi_region_or_scheme_is_404(client, toks, path, params, field):
    r = client.get(path, toks["prov"], params)
    assert r.status == 404, r.body[:300]
    err = r.json()["error"]
    assert err["code"] == "not_found" and err["field"] == field and "未知" in err["message_zh"]


@pytest.mark.parametrize("token,why", [(None, "missing"), ("ck_" + "x" * 43, "unknown"), ("old", "expired"),
                                       ("gone", "revoked")])
def test_no_unknown_expired_or_revoked_token_is_401(client, toks, api_db, token, why):
    r = client.get("/api/v1/kpis", toks.get(token, token))
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["code"] == "unauthorized"
    entry = audit.read(Store(api_db), action="denied", limit=1).iloc[0]
    assert "result=401" in entry["detail"] and entry["username"] == (token if why in ("expired", "revoked") else "-")


def test_health_and_openapi_need_no_token(client):
    h = client.get("/api/v1/health")
    assert h.status == 200 and h.json()["status"] == "ok"
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")


def test_the_openapi_document_describes_every_route_and_no_other():
    doc = openapi.document()
    routes = {r.path.removeprefix("/api/v1") for r in Client().app.routes}
    assert set(doc["paths"]) == routes
    for path, item in doc["paths"].items():
        op = item["get"]
        assert op["operationId"] and op["responses"]
        for p in op.get("parameters", []):
            assert p["in"] in ("query", "path") and "schema" in p
            if p["in"] == "path":
                assert "{" + p["name"] + "}" in path and p["required"]
    refs = json.dumps(doc).count("#/components/")
    assert refs and all(k in doc["components"]["responses"] for k in ("Error", "RateLimited"))


def test_routes_follow_the_base_path():
    assert {r.path for r in Client("cockpit").app.routes} >= {"/cockpit/api/v1/values", "/cockpit/api/v1/health"}


# -- rate limit ------------------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after(client, toks, api_db, monkeypatch):
    monkeypatch.setattr(service, "LIMITER", service.Buckets(rate=0.01, burst=2))
    assert [client.get("/api/v1/kpis", toks["prov"]).status for _ in range(2)] == [200, 200]
    r = client.get("/api/v1/kpis", toks["prov"])
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1 and r.json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/kpis", toks["city"]).status == 200  # per token
    assert "result=429" in audit.read(Store(api_db), user="prov", action="denied", limit=1).iloc[0]["detail"]


def test_the_bucket_refills():
    b = service.Buckets(rate=10, burst=3)
    assert [b.take("t", 0.0) for _ in range(3)] == [0, 0, 0]
    assert b.take("t", 0.0) == pytest.approx(0.1)
    assert b.take("t", 0.1) == 0


# -- audit -----------------------------------------------------------------------------------------------------
def test_every_read_is_audit_logged(client, toks, api_db):
    client.get("/api/v1/values", toks["county"], {"period": PERIOD, "kpis": KPI})
    e = audit.read(Store(api_db), user="county", action="api_read", limit=1).iloc[0]
    assert e["target"] == "/api/v1/values"
    assert f"kpis={KPI}" in e["detail"] and f"scope={COUNTY}" in e["detail"] and "result=200" in e["detail"]


# -- tokens: the CLI, the table ---------------------------------------------------------------------------------
def test_token_cli_create_list_revoke(client, api_db, capsys):
    from auth.__main__ import main

    assert main(["token", "create", "cli-sys", "--scope", CITY, "--days", "7"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("ck_")
    assert client.get("/api/v1/kpis", token).status == 200
    assert main(["token", "list"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("cli-sys")]
    assert listed and CITY in listed[0] and "active" in listed[0] and token not in listed[0]
    with Store(api_db).engine.connect() as c:
        stored = c.execute(sa.select(api_token.c.token_hash).where(api_token.c.name == "cli-sys")).scalar_one()
    assert stored == tokens.digest(token) and token not in stored  # only the hash is kept
    assert main(["token", "revoke", "cli-sys"]) == 0
    assert client.get("/api/v1/kpis", token).status == 401
    assert main(["token", "create", "bad", "--scope", "331102001"]) == 2  # a township is not a scope
    assert main(["token", "revoke", "cli-sys"]) == 2  # already revoked


def test_token_table_on_every_backend(db_url):
    store = Store(db_url)
    store.migrate()
    name = f"sys-{dt.datetime.now():%H%M%S%f}"
    token = tokens.create(store, name, CITY, 1)
    tok, why = tokens.lookup(store, token)
    assert why == "" and tok.scope_code == CITY and tok.last_used_at is not None
    assert tokens.lookup(store, token + "x")[1] == "unknown"
    with pytest.raises(ValueError):
        tokens.create(store, name, CITY, 1)
    tokens.revoke(store, name)
    assert tokens.lookup(store, token)[1] == "revoked"
    assert [t.state() for t in tokens.list_tokens(store) if t.name == name] == ["revoked"]


# -- the bulk command shares the columns --------------------------------------------------------------------------
def test_metrics_bulk_has_the_values_endpoints_columns(client, toks, api_db, monkeypatch, capsysbinary):
    from metrics.cli import main

    assert main(["bulk", PERIOD, "--regions", f"{CITY},{COUNTY}", "--kpis", KPI, "--format", "csv"]) == 0
    out = capsysbinary.readouterr().out
    api_csv = client.get("/api/v1/values", toks["prov"], {"period": PERIOD, "regions": f"{CITY},{COUNTY}",
                                                          "kpis": KPI, "format": "csv"}).body
    assert out == api_csv
    assert main(["bulk", PERIOD, "--scope", CITY, "--regions", OTHER_CITY]) == 2
    assert main(["bulk", PERIOD, "--scope", CITY, "--format", "json"]) == 0
    rows = json.loads(capsysbinary.readouterr().out)
    assert list(rows[0]) == COLUMNS and {r["region"] for r in rows} <= Scope.of(CITY, geography()).regions


def test_quality_names_the_counties_that_have_not_reported(client, toks):
    from tests.app_helpers import OVERDUE, REPORT_MONTH

    body = client.get("/api/v1/quality", toks["prov"], {"period": REPORT_MONTH}).json()
    late = {r["region"] for r in body["data"] if not r["complete"]}
    assert set(OVERDUE) <= late and set(OVERDUE) <= set(body["meta"]["not_reported"])
    assert all(r["kpis_not_reported"] for r in body["data"] if r["region"] in OVERDUE)
    mine = client.get("/api/v1/quality", toks["city"], {"period": REPORT_MONTH}).json()
    assert not set(OVERDUE) & {r["region"] for r in mine["data"]}  # neither is in 丽水


def test_server_mounts_the_api_beside_the_app():
    from pathlib import Path

    src = (Path(__file__).resolve().parent.parent / "server.py").read_text(encoding="utf-8")
    assert "*api.routes(_BASE)" in src and 'st.App("app.py"' in src


def test_the_catalogue_carries_targets_with_their_source_and_pacing(client, toks):
    kpis = {k["code"]: k for k in client.get("/api/v1/kpis", toks["county"]).json()["data"]}
    dau, rate = kpis[KPI], kpis[RATE]
    assert dau["paced"] and not rate["paced"] and dau["direction"] in ("up", "down")
    assert dau["targets"] and all(t["source"] and t["year"] for t in dau["targets"])
    assert dau["definition_zh"] and dau["unit_zh"]



# -- the answers' cache ------------------------------------------------------------------------------------------
def test_a_repeated_pull_is_served_from_the_body_cache(client, toks, monkeypatch):
    import api.endpoints as ep

    cache = service.BodyCache()
    monkeypatch.setattr(service, "BODIES", cache)
    params = {"period": PERIOD, "kpis": f"{KPI},{RATE}"}
    first = client.get("/api/v1/values", toks["prov"], params)
    assert first.status == 200 and (cache.hits, cache.misses) == (0, 1)
    with monkeypatch.context() as m:
        m.setattr(ep, "value_rows", lambda *a, **k: pytest.fail("a cached answer is read again"))
        again = client.get("/api/v1/values", toks["prov"], dict(reversed(params.items())))  # same query
        assert again.status == 200 and again.body == first.body and cache.hits == 1
        assert again.headers["etag"] == first.headers["etag"]
    # per scope and format: a city token's pull and the CSV form are entries of their own
    city = client.get("/api/v1/values", toks["city"], params)
    assert city.status == 200 and city.body != first.body
    assert {r["region"] for r in city.json()["data"]} <= Scope.of(CITY, geography()).regions
    csv_body = client.get("/api/v1/values", toks["prov"], {**params, "format": "csv"})
    assert csv_body.body.startswith(b"\xef\xbb\xbf") and cache.misses == 3


def test_new_data_is_never_served_from_the_body_cache(client, toks, api_db, monkeypatch):
    cache = service.BodyCache()
    monkeypatch.setattr(service, "BODIES", cache)
    client.get("/api/v1/kpis", toks["prov"])
    store = Store(api_db)
    with store.engine.begin() as c:
        store._bump_version(c)
    assert client.get("/api/v1/kpis", toks["prov"]).status == 200 and cache.misses == 2
    assert len(cache._data) == 1  # the older version's entry is dropped


def test_the_body_cache_is_bounded():
    small = service.BodyCache(entries=2, max_bytes=100)
    for i in range(5):
        small.put(("u", 1, "s", f"/p{i}", "", False, ""), b"x" * 10)
    assert [k[3] for k in small._data] == ["/p3", "/p4"]
    small.put(("u", 1, "s", "/big", "", False, ""), b"z" * 60)  # over a quarter of the bytes: not kept
    assert len(small._data) == 2 and small.get(("u", 1, "s", "/big", "", False, "")) is None


# -- refused tokens per address ---------------------------------------------------------------------------------
def test_repeated_bad_tokens_from_one_address_get_429_and_are_logged(client, toks, api_db, monkeypatch):
    monkeypatch.setattr(service, "FAILED_AUTH", service.FailedAuth(limit=3))
    bad_token = "ck_" + "y" * 43
    assert [client.get("/api/v1/kpis", bad_token, ip="10.1.2.3").status for _ in range(3)] == [401] * 3
    r = client.get("/api/v1/kpis", bad_token, ip="10.1.2.3")
    assert r.status == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["error"]["code"] == "rate_limited" and r.json()["error"]["message_zh"]
    # the address is held whatever it sends: a 429 tells nothing about whether a token is good
    assert client.get("/api/v1/kpis", toks["prov"], ip="10.1.2.3").status == 429
    assert client.get("/api/v1/kpis", toks["prov"], ip="10.9.9.9").status == 200  # per address
    entry = audit.read(Store(api_db), action="denied", limit=1).iloc[0]
    assert "result=429" in entry["detail"] and "ip=10.1.2.3" in entry["detail"]
    # behind the proxy on the host, the address the proxy saw counts (its own last X-Forwarded-For entry)
    fwd = {"x-forwarded-for": "203.0.113.7"}
    assert [client.get("/api/v1/kpis", bad_token, headers=fwd).status for _ in range(4)] == [401] * 3 + [429]
    assert client.get("/api/v1/kpis", toks["prov"]).status == 200  # the proxy itself is not held
    # a peer that is not a trusted proxy cannot pick its address by header
    spoof = {"x-forwarded-for": "198.51.100.1"}
    assert [client.get("/api/v1/kpis", bad_token, headers=spoof, ip="10.5.5.5").status
            for _ in range(4)][-1] == 429
    assert client.get("/api/v1/kpis", toks["prov"], headers=spoof, ip="10.6.6.6").status == 200


def test_the_refused_token_window_is_one_minute():
    w = service.FailedAuth(limit=2)
    w.failed("a", now=0.0)
    w.failed("a", now=10.0)
    assert w.blocked("a", now=11.0) == pytest.approx(49.0)
    assert w.blocked("a", now=60.5) == 0.0  # the first one left the window
    assert w.blocked("b", now=11.0) == 0.0


# -- scope checks: schemes and townships ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def town_db(app_db, tmp_path_factory) -> str:
    """A private copy of the demo database with the township breakdown."""
    from ingest.demo_townships import add_townships

    path = tmp_path_factory.mktemp("api-town") / "town.sqlite"
    copy_sqlite(app_db, path)
    url = f"sqlite:///{path}"
    add_townships(Store(url), seed=2021)
    return url


@pytest.fixture
def town_toks(town_db, monkeypatch) -> dict[str, str]:
    """A city and a county token on the township database (fresh names: a token is shown once)."""
    import uuid

    monkeypatch.setenv("DATABASE_URL", town_db)
    return {who: tokens.create(Store(town_db), f"{who}-{uuid.uuid4().hex[:8]}", scope, 1)
            for who, scope in (("city", CITY), ("county", COUNTY))}


def test_a_county_token_reads_its_own_townships_only(client, town_toks):
    geo = geography()
    mine = geo.townships_of(COUNTY)[0]
    neighbour = geo.townships_of(geo.counties_of(CITY)[1])[0]  # same city, another county
    far = geo.townships_of(OTHER_COUNTY)[0]
    from metrics import open_engine

    kpi = open_engine().township_kpis()[0]
    r = client.get("/api/v1/values", town_toks["county"], {"period": PERIOD, "regions": mine, "kpis": kpi})
    assert r.status == 200, r.body[:300]
    rows = r.json()["data"]
    assert [row["region"] for row in rows] == [mine] and rows[0]["value"] is not None
    assert rows[0]["level"] == "township" and rows[0]["region_name_zh"]
    t = client.get("/api/v1/trend", town_toks["county"], {"kpis": kpi, "regions": f"{COUNTY},{mine}",
                                                          "end": PERIOD, "months": "3"})
    assert t.status == 200 and {row["region"] for row in t.json()["data"]} == {COUNTY, mine}
    for other in (neighbour, far):
        for path, params in (("/api/v1/values", {"period": PERIOD, "regions": other}),
                             ("/api/v1/trend", {"kpis": kpi, "regions": other, "end": PERIOD})):
            r = client.get(path, town_toks["county"], params)
            assert r.status == 403, (path, other, r.body[:200])
            assert r.json()["error"]["field"] == "regions" and other in r.json()["error"]["message_en"]
    # the city token reads every township of its counties, none of another city's
    assert client.get("/api/v1/values", town_toks["city"], {"period": PERIOD, "regions": neighbour}).status == 200
    assert client.get("/api/v1/values", town_toks["city"], {"period": PERIOD, "regions": far}).status == 403


def test_the_reader_refuses_a_scheme_over_a_population_outside_the_scope(api_db):
    from metrics import open_engine
    from metrics.access import Reader
    from metrics.schemes import schemes

    eng = open_engine(api_db)
    code = schemes().schemes[0].code
    city, county = Reader.for_code(eng, CITY), Reader.for_code(eng, COUNTY)
    with pytest.raises(PermissionError):
        city.scheme(code, PERIOD, f"city:{OTHER_CITY}")
    with pytest.raises(PermissionError):
        county.scheme(code, PERIOD, f"city:{OTHER_CITY}")
    own = city.scheme(code, PERIOD, f"city:{CITY}")
    assert set(own.scores["region"]) <= Scope.of(CITY, geography()).regions
    assert Reader.for_code(eng, "330000").scheme(code, PERIOD, f"city:{OTHER_CITY}").scores.size


# -- 问数 --------------------------------------------------------------------------------------------------------
ASK_LISHUI = "2022年3月丽水哪些县一网通办率没达标？"


def test_ask_answers_with_reading_sentence_figures_and_link(client, toks):
    r = client.get("/api/v1/ask", toks["prov"], {"q": ASK_LISHUI})
    assert r.status == 200, r.body[:300]
    body = r.json()
    assert body["kind"] == "answer" and body["question"] == ASK_LISHUI
    assert body["query"]["intent"] == "status_list" and body["query"]["kpis"] == ["online_handling_rate"]
    assert "指标：一网通办率" in body["reading"] and body["sentence"].startswith("2022年3月丽水市")
    assert body["figures"] and all(f["region"] in geography().counties_of(CITY) for f in body["figures"])
    assert body["link"].startswith("/rankings?") and "pop=city%3A331100" in body["link"]
    assert body["data"] and body["meta"]["lang"] == "zh" and body["meta"]["scope"] == "330000"
    en = client.get("/api/v1/ask", toks["prov"], {"q": ASK_LISHUI, "lang": "en"}).json()
    assert en["kind"] == "answer" and "Lishui" in en["sentence"]
    c = client.get("/api/v1/ask", toks["prov"], {"q": ASK_LISHUI, "format": "csv"})
    assert c.status == 200 and len(_rows_csv(c.text)) == len(body["data"])


def test_ask_uses_the_tokens_scope_as_home(client, toks):
    q = "2022年3月浙里办日活是多少"
    for who, region in (("prov", "330000"), ("city", CITY), ("county", COUNTY)):
        body = client.get("/api/v1/ask", toks[who], {"q": q}).json()
        assert body["kind"] == "answer" and [f["region"] for f in body["figures"]] == [region], who


def test_ask_outside_the_scope_is_refused_and_logged(client, toks, api_db):
    for who, q in (("city", "2022年3月杭州浙里办日活是多少"), ("county", ASK_LISHUI)):
        r = client.get("/api/v1/ask", toks[who], {"q": q})
        assert r.status == 403, r.body[:300]
        err = r.json()["error"]
        assert err["code"] == "forbidden" and err["field"] == "q"
        assert "超出" in err["message_zh"] and "Outside your scope" in err["message_en"]
        entry = audit.read(Store(api_db), user=who, action="denied", limit=1).iloc[0]
        assert entry["target"] == "/api/v1/ask" and "result=403" in entry["detail"]
    assert client.get("/api/v1/ask", toks["prov"], {"q": "2022年3月杭州浙里办日活是多少"}).status == 200


def test_ask_clarifies_rather_than_guesses(client, toks):
    body = client.get("/api/v1/ask", toks["prov"], {"q": "2022年3月鼓楼区的幸福指数是多少"}).json()
    assert body["kind"] == "clarify" and body["clarification"] and body["sentence"] and not body["figures"]


@pytest.mark.parametrize("params,field", [({}, "q"), ({"q": "  "}, "q"), ({"q": "x" * 201}, "q"),
                                          ({"q": ASK_LISHUI, "lang": "fr"}, "lang"),
                                          ({"q": ASK_LISHUI, "region": CITY}, "region")])
def test_ask_bad_parameters_are_400(client, toks, params, field):
    r = client.get("/api/v1/ask", toks["prov"], params)
    assert r.status == 400 and r.json()["error"]["field"] == field
