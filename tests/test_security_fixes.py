"""Identity, input and audit hardening: each case reproduces what a probe of the running app found.

Markdown in user names, look-alike names, over-long replies emptied, number and id parameters that
crashed a page, a lock-out message that told who has an account, a session cookie scripts could
read, and an audit export that carried formulas.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt

import pytest

from auth import accounts, audit, cookie
from auth.accounts import User
from followup import service as fs
from tests.app_helpers import run
from tests.helpers import LEADER, engine_for, month_rows, scratch_store, small_catalogue
from ui.urlstate import MAX_ID, parse_number


@pytest.fixture
def followup_store(tmp_path):
    from store import Batch

    s = scratch_store(f"sqlite:///{tmp_path / 'fu.sqlite'}")
    s.write_batch(Batch("import", region_code=None, period="2026-09", submitted_by="test"),
                  month_rows({("330102", "flow_m"): 40.0, ("330102", "base_m"): 100.0}, dt.date(2026, 9, 1)))
    yield s
    s.engine.dispose()


def make_item(store) -> fs.Item:
    fig = fs.figure_of(engine_for(store, small_catalogue()), "k_ratio", "330102", "2026-09")
    return fs.get(store, fs.create(store, LEADER, fig, "请分析原因", owner_kind="region", owner_code="330102",
                                   source="tile", cat=small_catalogue()))


# -- user names -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["officer_330102", "张三", "li.si-2", "王五_丽水"])
def test_safe_user_names_are_accepted(name):
    assert accounts.check_username(name) == name


@pytest.mark.parametrize("name", [
    "![p](http://127.0.0.1:9/px.png)",  # markdown image: other users' browsers would fetch it
    "[x](javascript:alert(1))", "<b>office</b>", "off ice",
    "off\u200bice", "office\u200d", "\u202eeciffo",  # zero-width and bidi look-alikes
    "ｏｆｆｉｃｅ",  # full-width look-alike of "office"
    "", "x" * 65, "tab\there", "new\nline",
])
def test_unsafe_user_names_are_refused(name):
    with pytest.raises(accounts.UsernameError):
        accounts.check_username(name)


def test_create_user_refuses_a_markdown_name(followup_store):
    with pytest.raises(accounts.UsernameError):
        accounts.create_user(followup_store, "![p](http://127.0.0.1:9/px.png)", "long-enough-pw", "leader", "331100")
    assert accounts.get_user(followup_store, "![p](http://127.0.0.1:9/px.png)") is None


def test_people_text_is_escaped_for_markdown():
    from ui.html import md

    out = md("![p](http://127.0.0.1:9/px.png)")
    assert "![" not in out and "](" not in out and out.replace("\\", "") == "![p](http://127.0.0.1:9/px.png)"


# -- over-long input is refused, never emptied ---------------------------------------------------------
def test_over_long_reply_is_refused_and_nothing_is_stored(followup_store):
    item = make_item(followup_store)
    officer = User("officer_330102", "officer", "330102")
    before = fs.history(followup_store, item.id)
    with pytest.raises(fs.FollowupError) as e:
        fs.reply(followup_store, officer, item.id, "很" * 100_000)
    assert e.value.reason == "too_long"
    with pytest.raises(fs.FollowupError):
        fs.reply(followup_store, officer, item.id, "ok", ["x" * 201])
    assert fs.history(followup_store, item.id) == before
    fs.reply(followup_store, officer, item.id, "很" * fs.MAX_TEXT)  # exactly the limit is fine
    assert fs.history(followup_store, item.id)[-1].text == "很" * fs.MAX_TEXT


# -- number and id parameters ----------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("3", 3), ("3.0", 3), (" 12 ", 12), ("inf", None), ("-inf", None), ("nan", None), ("1e999", None),
    ("1e6", 1_000_000), ("1e7", None), ("0", None), ("2.5", None), ("²", None), ("", None), (None, None),
    ("9" * 40, None), ("0x10", None),
])
def test_parse_number_bounds_and_refuses(raw, expected):
    assert parse_number(raw, 1, 1_000_000, integer=True) == expected


def test_followup_lookup_of_an_impossible_id_is_not_found(followup_store):
    for bad in (0, -1, MAX_ID + 1, 10**23):
        with pytest.raises(KeyError):
            fs.get(followup_store, bad)


@pytest.mark.parametrize("params", [
    {"rview": "lists", "n": "inf"}, {"rview": "lists", "k": "1e999"}, {"rview": "lists", "m": "nan"},
    {"rview": "lists", "n": "-5"}, {"mind": "1e400"}, {"mind": "1e13"},
])
def test_rankings_number_parameters_are_refused_not_crashing(app_db, use_db, params):  # noqa: F811
    use_db(app_db)
    at = run("pages/rankings.py", **params)  # run() asserts no exception
    key = next(k for k in params if k in ("n", "k", "m", "mind"))
    assert any(f"{key}=" in str(w.value) and "无效" in str(w.value) for w in at.warning)
    denied = audit.read(_store(app_db), action="denied")
    assert denied["target"].str.startswith(f"{key}=").any()


@pytest.mark.parametrize("item", ["99999999999999999999999", "-1", "1e3", "²", "abc"])
def test_followup_item_parameter_is_refused_not_crashing(app_db, use_db, item):  # noqa: F811
    use_db(app_db)
    at = run("pages/followup.py", item=item)
    assert any("无权" in str(e.value) for e in at.error)


def test_kiosk_timers_are_bounded(app_db, use_db):  # noqa: F811
    use_db(app_db)
    run(refresh="1e999", rotate="99999999999999999999999999")  # no exception


def _store(url: str):
    from store import Store

    return Store(url)


# -- sign-in: one message for every refusal ----------------------------------------------------------------
def _sign_in_message(app_db, use_db, name: str, password: str) -> str:  # noqa: F811
    use_db(app_db)
    at = run(user=None)
    at.text_input(key="auth_username").input(name)
    at.text_input(key="auth_password").input(password)
    at.button[0].click().run()
    return " ".join(str(e.value) for e in at.error)


def test_locked_and_unknown_accounts_get_the_same_message(app_db, use_db):  # noqa: F811
    store = _store(app_db)
    accounts.create_user(store, "lock_probe", "right-password", "leader", "331100", by="test")
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.SignInError):
            accounts.authenticate(store, "lock_probe", "wrong-password")
    locked = _sign_in_message(app_db, use_db, "lock_probe", "wrong-password")
    unknown = _sign_in_message(app_db, use_db, "nobody_here", "wrong-password")
    wrong = _sign_in_message(app_db, use_db, "lishui_leader", "wrong-password")
    assert locked == unknown == wrong and "用户名或密码错误" in locked
    assert "锁定至" not in locked  # no time that only a real account could have


# -- the session cookie ------------------------------------------------------------------------------------
def _call(route, method: str, body: bytes = b"", headers: dict[str, str] | None = None,
          scheme: str = "http") -> tuple[int, dict[str, str]]:
    """One request through the Starlette route, as the ASGI server would make it."""
    sent: list[dict] = []
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": method, "path": cookie.PATH, "raw_path": cookie.PATH.encode(),
             "query_string": b"", "headers": raw_headers, "scheme": scheme, "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5), "root_path": "", "http_version": "1.1"}
    msgs = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return msgs.pop(0) if msgs else {"type": "http.disconnect"}

    async def send(m):
        sent.append(m)

    asyncio.run(route.handle(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}


def test_session_cookie_is_http_only_and_set_only_for_a_live_session(monkeypatch):
    monkeypatch.delenv("COCKPIT_COOKIE_SECURE", raising=False)
    live = "a" * 43
    route = cookie.route(lambda tok: tok == live)
    h = {cookie.HEADER: "1"}
    status, headers = _call(route, "POST", live.encode(), h)
    assert status == 204
    parts = [p.strip() for p in headers["set-cookie"].split(";")]
    assert parts[0] == f"cockpit_session={live}" and "HttpOnly" in parts and "SameSite=Strict" in parts
    assert "Secure" not in parts  # plain http on a laptop
    assert _call(route, "POST", live.encode())[0] == 400  # a cross-site form cannot send the header
    assert _call(route, "POST", b"b" * 43, h)[0] == 403  # not a live session
    assert _call(route, "POST", b"<script>", h)[0] == 403
    status, headers = _call(route, "POST", live.encode(), {**h, "X-Forwarded-Proto": "https"})
    assert "Secure" in headers["set-cookie"]  # behind the TLS proxy
    assert "Secure" in _call(route, "POST", live.encode(), h, scheme="https")[1]["set-cookie"]
    status, headers = _call(route, "DELETE", b"", h)
    assert status == 204 and "Max-Age=0" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]


def test_cookie_secure_flag_can_be_forced_either_way(monkeypatch):
    monkeypatch.setenv("COCKPIT_COOKIE_SECURE", "1")
    assert cookie.secure("http", None)
    monkeypatch.setenv("COCKPIT_COOKIE_SECURE", "0")
    assert not cookie.secure("https", "https")


def test_the_server_entry_point_serves_the_cookie_route():
    import ast
    from pathlib import Path

    src = (Path(__file__).resolve().parent.parent / "server.py").read_text()
    assert "cookie.route" in src and 'st.App("app.py"' in src
    ast.parse(src)


# -- the audit export --------------------------------------------------------------------------------------
def test_cli_audit_csv_neutralises_formulas(followup_store, tmp_path, monkeypatch):
    from auth.__main__ import main

    url = followup_store.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    audit.record(followup_store, "office", "export", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0")
    out = tmp_path / "audit.csv"
    assert main(["audit", "--csv", str(out)]) == 0
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    row = next(r for r in rows if r["action"] == "export")
    assert row["target"].startswith("'=") and row["detail"].startswith("'+")
    assert dt.datetime.fromisoformat(row["at"])  # dates stay dates
