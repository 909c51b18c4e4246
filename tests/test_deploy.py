"""The production layout: nginx + two replicas + one scheduler on PostgreSQL, on loopback.

One layout is started for the module on free ports with its own state folder and its own
database (a short demo history, loaded in-process so the layout's first start only migrates),
then: health through the proxy and per replica, sticky routing, compression and browser caching of
Streamlit's bundles, the API behind the proxy, the deep health check, JSON logs, a short run of the
load-test client (page and API phases), and `down` stopping every recorded process.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa

from deploy import layout as lay
from store.db import ROOT, make_engine
from tests.conftest import PG_ADMIN, REQUIRE_SERVERS

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _free(port: int) -> bool:
    """Nothing listens on the port (TIME_WAIT leftovers of closed connections do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> tuple[int, int]:
    """A proxy port and the first of two consecutive replica ports, all free, below the ephemeral
    range (32768+) that outgoing connections such as database clients draw from."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 29990)
        if _free(base) and _free(base + 1) and _free(base + 2):
            return base + 2, base
    raise RuntimeError("no free ports")


def _cli(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], list[str], str]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.headers.get_all("Set-Cookie") or [], r.read().decode(errors="replace")


def _raw(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (names in any case) and the body as sent (not decompressed); 304 and 4xx too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    if lay.find_nginx() is None:
        msg = "nginx not installed (Debian's nginx-light; ./cockpit test installs it)"
        if REQUIRE_SERVERS:
            pytest.fail(msg + " — mandatory in CI", pytrace=False)
        pytest.skip(msg)
    url = sa.engine.make_url(PG_ADMIN).set(database=f"cockpit_t_deploy_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    try:
        created = lay.ensure_database(url)
    except sa.exc.OperationalError as exc:
        if REQUIRE_SERVERS:
            pytest.fail(f"PostgreSQL not reachable: {exc}", pytrace=False)
        pytest.skip("PostgreSQL not reachable")
    assert created and not lay.ensure_database(url)  # created once, found the second time
    from ingest.bootstrap import create_demo_database

    create_demo_database(url, today=dt.date(2021, 8, 31))  # 7 months: the layout's first start only migrates
    state = tmp_path_factory.mktemp("deploy")
    proxy, base = _ports()
    env = os.environ | {"COCKPIT_DEPLOY_DIR": str(state), "PYTHONPATH": str(ROOT)}
    up = _cli(["deploy.layout", "up", "--replicas", "2", "--port", str(proxy), "--base-port", str(base),
               "--database-url", url], env)
    info = {"url": url, "env": env, "state": state, "proxy": f"http://127.0.0.1:{proxy}",
            "replicas": [f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"], "up": up}
    try:
        assert up.returncode == 0, up.stdout + up.stderr[:6000]
        info["layout"] = json.loads((state / "layout.json").read_text())
        yield info
    finally:
        _cli(["deploy.layout", "down"], env, timeout=60)
        admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def test_nginx_config_renders_every_replica():
    text = lay.render_nginx("127.0.0.1:9000", [9001, 9002, 9003], Path("/tmp/x"), static_root=Path("/srv/st"))
    assert text.count("server 127.0.0.1:900") == 6 and "hash $route consistent;" in text  # pages and API
    assert "hash $http_authorization consistent;" in text and "location /api/ {" in text
    assert "root /srv/st;" in text and "gzip_static on;" in text and "gzip on;" in text
    assert "listen 127.0.0.1:9000;" in text and "location = /healthz/replica/3" in text
    assert "@@" not in "".join(line.split("#", 1)[0] for line in text.splitlines())


def test_env_file_syntax(tmp_path):
    f = tmp_path / "c.env"
    f.write_text('# comment\nDATABASE_URL="postgresql://u@h/db"\nexport COCKPIT_REPLICAS=3\n\nBAD LINE\n')
    assert lay.read_env_file(f) == {"DATABASE_URL": "postgresql://u@h/db", "COCKPIT_REPLICAS": "3"}
    keys = lay.read_env_file(ROOT / "deploy" / "cockpit.env.example")
    assert {"DATABASE_URL", "DATABASE_CONNECT_TIMEOUT", "COCKPIT_LOG_FORMAT", "COCKPIT_SESSION_MINUTES"} <= set(keys)
    assert all("#" not in v for v in keys.values())  # no inline comments: systemd would keep them


def test_up_refuses_without_nginx(tmp_path):
    env = os.environ | {"COCKPIT_DEPLOY_DIR": str(tmp_path), "COCKPIT_NGINX": str(tmp_path / "no-nginx"),
                        "PYTHONPATH": str(ROOT)}
    r = _cli(["deploy.layout", "up", "--database-url", "sqlite:///" + str(tmp_path / "x.sqlite")], env, 60)
    assert r.returncode == 2 and "nginx is not installed" in r.stderr
    assert not (tmp_path / "layout.json").exists()


def test_layout_is_healthy(deployed):
    parts = {p["name"]: p for p in deployed["layout"]["parts"]}
    assert set(parts) == {"replica-1", "replica-2", "scheduler", "nginx"}  # exactly one scheduler
    status, headers, _, body = _get(deployed["proxy"] + "/healthz")
    assert status == 200 and body == "ok"
    for i, rep in enumerate(deployed["replicas"], start=1):
        assert _get(rep + "/_stcore/health")[3] == "ok"
        st, hd, _, b = _get(f"{deployed['proxy']}/healthz/replica/{i}")
        assert b == "ok" and hd["X-Cockpit-Upstream"] == rep.removeprefix("http://")
    r = _cli(["deploy.layout", "status", "--json"], deployed["env"], 60)
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["ok"], r.stdout
    assert all(p["running"] for p in rep["processes"].values())


def test_sticky_route_keeps_a_client_on_one_replica(deployed):
    _, headers, cookies, _ = _get(deployed["proxy"] + "/")
    route = next(c.split(";")[0] for c in cookies if c.startswith("cockpit_route="))
    first = headers["X-Cockpit-Upstream"]
    for _ in range(8):
        _, h, again, _ = _get(deployed["proxy"] + "/", cookie=route)
        assert h["X-Cockpit-Upstream"] == first
        assert not any(c.startswith("cockpit_route=") for c in again)  # set once, not on every response
    seen = {_get(deployed["proxy"] + "/")[1]["X-Cockpit-Upstream"] for _ in range(24)}
    assert seen == {r.removeprefix("http://") for r in deployed["replicas"]}  # new clients spread over both


def test_bundles_are_compressed_and_cached_by_the_browser(deployed):
    """The main JavaScript bundle comes gzipped from nginx's pre-compressed copy with a year's
    immutable caching; the page itself is compressed and never cached."""
    status, headers, page = _raw(deployed["proxy"] + "/", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert headers["Cache-Control"] == "no-cache"  # a new deploy is seen on the next visit
    html = gzip.decompress(page).decode()
    main = re.search(r'src="\./(static/js/index\.[\w-]+\.js)"', html)
    assert main, html[:2000]
    url = f"{deployed['proxy']}/{main.group(1)}"
    status, headers, body = _raw(url, {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Type"] == "application/javascript" and "Accept-Encoding" in headers.get("Vary", "")
    assert headers["X-Cockpit-Upstream"] == "nginx-static"  # from disk, not through a replica's Python
    plain = _raw(f"{deployed['replicas'][0]}/{main.group(1)}")[2]  # what Streamlit itself sends
    assert gzip.decompress(body) == plain and len(body) < len(plain) / 3
    status, headers, same = _raw(url)  # a client without gzip gets the plain file
    assert status == 200 and "Content-Encoding" not in headers and same == plain
    css = re.search(r'href="\./(static/css/[\w.-]+\.css)"', html)
    if css:
        h = _raw(f"{deployed['proxy']}/{css.group(1)}", {"Accept-Encoding": "gzip"})[1]
        assert h.get("Content-Encoding") == "gzip" and "immutable" in h["Cache-Control"]


def test_api_is_served_behind_the_proxy(deployed):
    """/api/v1/... through nginx: its health check, a token's read compressed, ETag and 304 through
    the proxy's compression, one replica per token, no route cookie."""
    status, headers, body = _raw(deployed["proxy"] + "/api/v1/health")
    assert status == 200 and json.loads(body)["status"] == "ok" and json.loads(body)["data_version"] > 0
    assert "Set-Cookie" not in headers and headers["Cache-Control"] == "no-store"
    from auth import tokens
    from store import Store

    store = Store(deployed["url"])
    try:
        token = tokens.create(store, f"deploy-test-{uuid.uuid4().hex[:6]}", "330000", 1)
    finally:
        store.engine.dispose()
    auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    url = deployed["proxy"] + "/api/v1/values?period=2021-08"
    status, headers, body = _raw(url, auth)
    assert status == 200 and headers.get("Content-Encoding") == "gzip", (status, headers, body[:300])
    rows = json.loads(gzip.decompress(body))["data"]
    assert len(rows) > 1000 and {"kpi", "region", "value"} <= set(rows[0])
    tag, upstream = headers["ETag"], headers["X-Cockpit-Upstream"]
    assert tag.startswith('W/"')  # a weak tag: nginx's compression keeps it as it is ...
    again = _raw(url, {**auth, "If-None-Match": tag})  # ... and the API answers 304 to it
    assert again[0] == 304 and again[1]["X-Cockpit-Upstream"] == upstream
    status, headers, body = _raw(url + "&format=csv", auth)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert gzip.decompress(body).startswith("\ufeff".encode())  # UTF-8 with BOM
    assert _raw(url, {"Authorization": "Bearer nope"})[0] == 401
    r = _cli(["deploy.layout", "status", "--json"], deployed["env"], 60)
    api = json.loads(r.stdout)["checks"]["api"]
    assert api["ok"] and api["url"].endswith("/api/v1/health") and api["data_version"] > 0


def test_deep_health_check(deployed):
    r = _cli(["deploy.health"], deployed["env"], 60)
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["ok"], r.stdout
    assert rep["checks"]["database"]["data_version"] > 0 and rep["checks"]["scheduler"]["ok"]
    assert rep["checks"]["scheduler"]["heartbeat_age_s"] < 30
    assert {"proxy", "api", "replica-1", "replica-2", "replica-1-via-proxy", "replica-2-via-proxy"} <= set(rep["checks"])
    missing = sa.engine.make_url(deployed["url"]).set(database="cockpit_t_no_such_db").render_as_string(False)
    bad = _cli(["deploy.health", "--database-url", missing, "--no-scheduler", "--replica",
                deployed["replicas"][0]], deployed["env"], 60)
    assert bad.returncode == 1 and json.loads(bad.stdout)["checks"]["database"]["ok"] is False


def test_app_and_scheduler_connect_as_the_append_only_account(deployed):
    """The replicas and the scheduler use the account that may only INSERT/SELECT the audit log."""
    db = sa.engine.make_url(deployed["url"]).database
    owner = make_engine(deployed["url"])
    try:
        with owner.connect() as c:
            users = {r[0] for r in c.execute(sa.text(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = :d"), {"d": db})}
            grants = {r[0] for r in c.execute(sa.text(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = 'cockpit_app' AND table_name = 'audit_log'"))}
    finally:
        owner.dispose()
    assert "cockpit_app" in users, users  # the scheduler holds its lease connection open
    assert grants == {"SELECT", "INSERT"}
    assert "cockpit_app" in deployed["up"].stdout + deployed["up"].stderr


def test_load_client_short_run_has_no_errors(deployed):
    # (with the warm-up: sessions released together from a cold cache all draw the same cached map
    # figure at once, which trips plotly's non-thread-safe pop of the trace "type" — reported)
    out = deployed["state"] / "load.json"
    r = _cli(["bench.load_test", "--url", deployed["proxy"], "--sessions", "3", "--minutes", "0.25",
              "--baseline-seconds", "3", "--memory-sessions", "1", "--think", "0.5", "--ramp", "1", "--settle", "0.5",
              "--api-clients", "3", "--api-seconds", "3", "--json", str(out)], deployed["env"], 300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep["load"]["errors"] == 0 and rep["baseline"]["errors"] == 0
    assert rep["load"]["pages"] >= 6 and rep["load"]["all"]["p95_ms"] > 0
    assert all(rep["load"][p]["n"] > 0 for p in ("overview", "system", "rankings"))
    assert rep["rss"]["within_bound"] and all(v for v in rep["rss"]["end_mb"].values())
    api = rep["api"]  # systems pulling a month through nginx: every call answered, JSON and CSV
    assert api["errors"] == 0 and api["json"]["n"] > 0 and api["csv"]["n"] > 0 and api["requests_per_s"] > 0


def test_logs_are_json_lines(deployed):
    _check_logs(deployed, retry=True)


def _check_logs(deployed: dict, retry: bool) -> None:
    logs = deployed["state"] / "logs"
    events = []
    for name in ("replica-1", "replica-2", "scheduler"):
        lines = [ln for ln in (logs / f"{name}.log").read_text().splitlines() if ln.strip()]
        assert lines, name
        parsed = [json.loads(ln) for ln in lines]  # every line: a replica's start-up too
        assert all({"ts", "level", "logger", "msg"} <= set(p) for p in parsed)
        events += [p["msg"] for p in parsed if isinstance(p["msg"], dict)]
    renders = [e for e in events if e.get("event") == "page_render"]
    if not renders and retry:  # run alone: draw the three pages once (normally the load-test run did)
        _cli(["bench.load_test", "--url", deployed["proxy"], "--sessions", "1", "--minutes", "0.05",
              "--baseline-seconds", "0", "--memory-sessions", "0", "--api-clients", "0"], deployed["env"], 300)
        return _check_logs(deployed, retry=False)
    assert renders and {"page", "role", "duration_ms", "outcome"} <= set(renders[0])
    assert {e["page"] for e in renders} >= {"overview", "system", "rankings"}
    access = [json.loads(ln) for ln in (logs / "nginx.log").read_text().splitlines() if ln.startswith("{")]
    assert any(a["msg"]["event"] == "request" and a["msg"]["status"] == 200 for a in access)


def test_down_stops_every_process(deployed):
    parts = [lay.Part(**p) for p in deployed["layout"]["parts"]]
    assert all(lay.alive(p) for p in parts)
    r = _cli(["deploy.layout", "down"], deployed["env"], 90)
    assert r.returncode == 0, r.stderr
    assert not any(lay.alive(p) for p in parts)
    assert not (deployed["state"] / "layout.json").exists()
    assert all(_free(p.port) for p in parts if p.port)
    again = _cli(["deploy.layout", "status"], deployed["env"], 60)
    assert again.returncode == 1
