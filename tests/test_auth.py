"""Sign-in, roles and scopes enforced server-side, demo accounts, audit log.

The role matrix runs on SQLite and PostgreSQL (demo accounts, scoped data layer, import rights,
audit, throttle, production refusal); URL-parameter attempts run through AppTest on the SQLite
demo database (signed in the way the form does, see tests/app_helpers.py).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import sqlalchemy as sa

from auth import accounts, audit, check, policy
from auth.accounts import SignInError, User
from auth.passwords import hash_password, verify_password
from ingest.bootstrap import create_demo_database
from metrics import open_engine
from metrics.access import Reader
from metrics.geography import PROVINCE, geography
from store import Store
from store.schema_auth import app_user, audit_log
from tests.app_helpers import DEMO_TODAY, run

# The role table as specified, spelled out independently of auth.policy: every permission of every role.
EXPECTED = {
    "leader": {"read", "present", "instruct", "followup"},
    "office": {"read", "download", "import", "rollback", "quality", "freeze", "export_pack", "manage_schemes",
               "present", "instruct", "followup"},
    "analyst": {"read", "download", "quality", "followup"},
    "officer": {"import", "quality", "followup"},
    "admin": {"rollback", "accounts", "audit", "jobs"},
}
ALL_PAGES = {"overview", "kpi", "map", "county", "rankings", "compare", "system", "data_in", "quality", "jobs", "pack",
             "present", "admin", "followup"}
PAGES = {
    "leader": {"overview", "kpi", "map", "county", "rankings", "compare", "system", "present", "followup"},
    "office": ALL_PAGES - {"jobs", "admin"},
    "analyst": {"overview", "kpi", "map", "county", "rankings", "compare", "system", "quality", "followup"},
    "officer": {"data_in", "quality", "followup"},
    "admin": {"jobs", "admin"},
}
DEMO = {name: (pw, role, scope) for name, pw, role, scope in accounts.DEMO_ACCOUNTS}
HANGZHOU = "330100"
LISHUI = "331100"
HZ_COUNTY, OTHER_HZ_COUNTY = "330102", "330106"  # 上城区 (the demo officer's county), 西湖区


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def demo_url(request, tmp_path_factory) -> str:
    """A short-history demo database (with the demo accounts) per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.sqlite'}"
    else:
        url = request.getfixturevalue("postgresql_url")
        Store(url).engine.dispose()
    create_demo_database(url, seed=2021, today=DEMO_TODAY)
    return url


@pytest.fixture(scope="module")
def demo_engine(demo_url):
    eng = open_engine(demo_url)
    yield eng
    eng.store.engine.dispose()


# -- passwords and policy (no database) -----------------------------------------------------------------------
def test_password_hashing_is_argon2id_salted():
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1.startswith("$argon2id$") and h1 != h2  # salted
    assert verify_password(h1, "correct horse") and not verify_password(h1, "wrong horse")
    assert not verify_password("not a hash", "x")
    with pytest.raises(ValueError):
        hash_password("short")


def test_permission_table_is_exactly_the_specified_table():
    for role in policy.ROLES:
        have = {p for p in policy.PERMISSIONS if policy.can(role, p)}
        assert have == EXPECTED[role], role
        assert {p for p in policy.PAGES if policy.may_see_page(role, p)} == PAGES[role], role
    with pytest.raises(KeyError):
        policy.can("leader", "fly")


def test_scope_regions():
    geo = geography()
    assert policy.scope_regions(PROVINCE) == frozenset(geo.regions)
    assert policy.scope_regions(LISHUI) == {LISHUI, *geo.counties_of(LISHUI)}
    assert policy.scope_regions(HZ_COUNTY) == {HZ_COUNTY}
    assert not any(c.startswith("3301") for c in policy.scope_regions(LISHUI))
    with pytest.raises(ValueError):
        policy.scope_regions(geo.groups[0])  # a peer group is not a scope


def test_may_import_only_own_county():
    assert policy.may_import("office", PROVINCE, None) and policy.may_import("office", PROVINCE, OTHER_HZ_COUNTY)
    assert policy.may_import("officer", HZ_COUNTY, HZ_COUNTY)
    assert not policy.may_import("officer", HZ_COUNTY, OTHER_HZ_COUNTY)
    assert not policy.may_import("officer", HZ_COUNTY, None)  # "the file names its regions" is the office's
    for role in ("leader", "analyst", "admin"):
        assert not policy.may_import(role, PROVINCE, HZ_COUNTY)


# -- the role matrix on each backend -----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DEMO))
def test_role_matrix(demo_engine, name):
    """Each demo account signs in and reads exactly its scope through the read boundary."""
    pw, role, scope = DEMO[name]
    u = accounts.authenticate(demo_engine.store, name, pw)
    assert (u.role, u.scope_code) == (role, scope)
    allowed = policy.scope_regions(u.scope_code)
    reader = Reader.for_code(demo_engine, u.scope_code)
    period = demo_engine.latest_month()
    bulk = reader.bulk(period)
    assert set(bulk["region"]) <= allowed and len(bulk) > 0
    kpi = demo_engine.catalogue.headline_kpis()[0].code
    outside = [r for r in (HANGZHOU, HZ_COUNTY, OTHER_HZ_COUNTY, LISHUI, PROVINCE) if r not in allowed]
    inside = [r for r in (HANGZHOU, HZ_COUNTY, LISHUI, PROVINCE) if r in allowed]
    for r in outside:  # a direct call with another scope: refused, or (a trend line beside one's own) left out
        with pytest.raises(PermissionError):
            reader.value(kpi, r, period)
        assert reader.trend([kpi], [r], period, 3).empty
        with pytest.raises(PermissionError):
            reader.league(kpi, period.label, r)
    for r in inside:
        assert reader.value(kpi, r, period).region == r
    league = reader.league(kpi, period.label, "counties")
    assert set(league["region"]) <= allowed
    if scope == LISHUI:
        assert not any(str(r).startswith("3301") for r in bulk["region"])
        assert len(league) == len(demo_engine.geo.counties_of(LISHUI))
    # import: officer own county only, office any; rollback: office and admin
    assert policy.may_import(u.role, u.scope_code, HZ_COUNTY) == (role in ("office", "officer"))
    assert policy.may_import(u.role, u.scope_code, OTHER_HZ_COUNTY) == (role == "office")
    assert policy.can(u.role, "rollback") == (role in ("office", "admin"))
    assert policy.can(u.role, "jobs") == policy.can(u.role, "accounts") == (role == "admin")


def test_sign_in_throttled_and_audited(demo_engine):
    store = demo_engine.store
    accounts.create_user(store, "throttle_me", "right-password", "analyst", LISHUI, by="test")
    t0 = dt.datetime(2030, 1, 1, 9, 0)
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(SignInError) as e:
            accounts.authenticate(store, "throttle_me", "wrong", now=t0)
        assert e.value.reason == "bad_credentials"
    with pytest.raises(SignInError) as e:
        accounts.authenticate(store, "throttle_me", "wrong", now=t0)
    assert e.value.reason == "locked"
    with pytest.raises(SignInError) as e:  # even the right password waits out the lock
        accounts.authenticate(store, "throttle_me", "right-password", now=t0 + dt.timedelta(minutes=1))
    assert e.value.reason == "locked"
    later = t0 + dt.timedelta(minutes=accounts.LOCK_MINUTES + 1)
    assert accounts.authenticate(store, "throttle_me", "right-password", now=later).username == "throttle_me"
    with pytest.raises(SignInError) as e:
        accounts.authenticate(store, "nobody", "whatever")
    assert e.value.reason == "bad_credentials"  # same answer as a wrong password
    accounts.set_disabled(store, "throttle_me", by="test")
    with pytest.raises(SignInError):
        accounts.authenticate(store, "throttle_me", "right-password", now=later)
    log = audit.read(store, user="throttle_me")
    assert {"sign_in", "sign_in_failed"} <= set(log["action"])
    changes = audit.read(store, action="account_disable")
    assert (changes["target"] == "throttle_me").any() and (changes["username"] == "test").any()


def test_account_validation(demo_engine):
    store = demo_engine.store
    with pytest.raises(ValueError):
        accounts.create_user(store, "x1", "long-enough", "officer", LISHUI)  # officer: one county
    with pytest.raises(ValueError):
        accounts.create_user(store, "x2", "long-enough", "king", PROVINCE)
    with pytest.raises(ValueError):
        accounts.create_user(store, "leader", "long-enough", "leader", PROVINCE)  # exists


def test_audit_log_is_append_only(demo_engine):
    store = demo_engine.store
    audit.record(store, "office", "freeze", "2022-03", "test entry")
    row = audit.read(store, action="freeze").iloc[0]
    assert (row["username"], row["target"]) == ("office", "2022-03")
    for stmt in (audit_log.update().values(detail="forged"), audit_log.delete()):
        with pytest.raises(sa.exc.DatabaseError), store.engine.begin() as c:
            c.execute(stmt)
    assert len(audit.read(store, action="freeze")) >= 1
    assert not hasattr(audit, "delete") and not hasattr(audit, "update")


def test_production_refuses_demo_accounts_and_default_secrets(demo_engine):
    store = demo_engine.store
    assert check.problems(store, "", {}) == []  # demo mode: demo accounts are fine
    with store.engine.begin() as c:
        store.set_meta(c, "is_demo", "0")
    try:
        bad = check.problems(store, "", {})
        assert bad and "demo accounts" in bad[0]
        assert any("cookie_secret" in p for p in check.problems(store, "", {"auth": {"cookie_secret": "change-me"}}))
        assert any("password" in p for p in check.problems(store, "postgresql://u:postgres@h/db", {}))
        with store.engine.begin() as c:  # resetting the demo passwords clears the refusal
            c.execute(app_user.update().values(is_demo=False))
        assert check.problems(store, "", {"auth": {"cookie_secret": "a-long-random-value"}}) == []
    finally:
        with store.engine.begin() as c:
            store.set_meta(c, "is_demo", "1")
            c.execute(app_user.update().where(app_user.c.username.in_(list(DEMO))).values(is_demo=True))


def test_cli(demo_url, monkeypatch, capsys):
    from auth.__main__ import main

    monkeypatch.setenv("DATABASE_URL", demo_url)
    assert main(["add-user", "cli_user", "--role", "leader", "--scope", LISHUI, "--password", "cli-password"]) == 0
    assert main(["list"]) == 0 and "cli_user" in capsys.readouterr().out
    assert main(["passwd", "cli_user", "--password", "new-password"]) == 0
    assert main(["disable", "cli_user"]) == 0
    assert main(["audit", "--user", "cli"]) == 0 and "account_disable" in capsys.readouterr().out
    assert main(["add-user", "bad", "--role", "officer", "--scope", PROVINCE, "--password", "x" * 9]) == 2
    assert main(["check"]) == 0


# -- the app: sign-in gate, expiry, URL attempts (AppTest, SQLite demo database) ---------------------------------
LISHUI_LEADER = User("lishui_leader", "leader", LISHUI)
OFFICER = User("officer_330102", "officer", HZ_COUNTY)
FORBIDDEN = ("杭州市", "上城区", "西湖区", "330100", "330102", "330106")  # region names and codes (a KPI
# definition mentions 杭州 as a methodology example: that is catalogue text, not data about the region)


def _texts(at) -> str:
    """Everything the page shows except refusal messages (they name what was asked for)."""
    out: list[str] = []
    for kind in ("html", "markdown", "caption", "title", "header", "subheader", "warning", "info", "success",
                 "metric", "text", "json"):
        for e in at.get(kind):
            out.append(str(getattr(e, "value", "")) + str(getattr(e, "label", "")))
    for e in at.get("selectbox") + at.get("multiselect"):
        out += [str(o) for o in e.options] + [str(e.value)]
    for e in at.get("dataframe"):
        out.append(e.value.to_string())
    for e in at.get("plotly_chart"):
        out.append(json.dumps(json.loads(e.proto.spec), ensure_ascii=False))
    return "\n".join(out)


def _refused(at) -> bool:
    return any("权限范围" in str(e.value) or "outside your scope" in str(e.value) for e in at.error)


def test_anonymous_sees_only_the_sign_in_form(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(user=None)
    assert at.text_input(key="auth_username") is not None
    assert 'class="tile"' not in "\n".join(str(e.value) for e in at.get("html"))
    assert "leader-demo" in "\n".join(str(e.value) for e in at.markdown)  # demo database: accounts shown
    at.text_input(key="auth_username").input("leader")
    at.text_input(key="auth_password").input("wrong-password")
    at.button[0].click().run()
    assert any("用户名或密码错误" in str(e.value) for e in at.error)
    at.text_input(key="auth_password").input("leader-demo")
    at.button[0].click().run()
    assert not at.exception
    assert 'class="tile"' in "\n".join(str(e.value) for e in at.get("html"))  # the cockpit


def test_session_expires_after_inactivity(app_db, use_db):  # noqa: F811
    use_db(app_db)
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import APP, TIMEOUT
    from ui.auth import IDLE_MINUTES, sign_in_session

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    sign_in_session(at.session_state, User("leader", "leader", PROVINCE), now=time.time() - IDLE_MINUTES * 60 - 5)
    at.run()
    assert not at.exception
    assert any("未操作" in str(e.value) for e in at.info)
    assert 'class="tile"' not in "\n".join(str(e.value) for e in at.get("html"))


@pytest.mark.parametrize(("page", "params"), [
    (None, {"scope": HANGZHOU}),
    ("pages/county.py", {"county": HZ_COUNTY}),
    ("pages/rankings.py", {"pop": HANGZHOU}),
    ("pages/rankings.py", {"pop": f"city:{HANGZHOU}"}),
    ("pages/compare.py", {"counties": f"{HZ_COUNTY},{OTHER_HZ_COUNTY}"}),
    ("pages/overview.py", {}),
    ("pages/rankings.py", {}),
])
def test_lishui_leader_gets_nothing_about_hangzhou(app_db, use_db, page, params):  # noqa: F811
    use_db(app_db)
    at = run(page, user=LISHUI_LEADER, **params)
    if params:
        assert _refused(at), [e.value for e in at.error]
    body = _texts(at)
    assert "丽水" in body
    leaks = [w for w in FORBIDDEN if w in body]
    assert leaks == [], leaks
    assert at.selectbox(key="scope").options == ["丽水市"]


def test_officer_imports_only_for_own_county(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/data_in.py", user=OFFICER, reporter=OTHER_HZ_COUNTY)
    assert _refused(at)
    rep = at.selectbox(key="reporter")
    assert rep.value == HZ_COUNTY and list(rep.options) == [at.selectbox(key="reporter").format_func(HZ_COUNTY)] or \
        len(rep.options) == 1
    assert not any(b.key == "data_rb" for b in at.button)  # no rollback for an officer


def test_officer_quality_shows_own_county_only(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/quality.py", user=OFFICER)
    body = "\n".join(e.value.to_string() for e in at.get("dataframe"))
    assert "上城" in body and "西湖" not in body and "拱墅" not in body


def test_roles_see_only_their_pages(app_db, use_db):  # noqa: F811
    """A page the role may not open is not registered: no URL reaches it (Streamlit: page not found)."""
    use_db(app_db)
    for u, visible, hidden in (
        (OFFICER, "pages/quality.py", "pages/county.py"),
        (User("admin", "admin", PROVINCE), "pages/admin.py", "pages/overview.py"),
        (User("leader", "leader", PROVINCE), "pages/overview.py", "pages/jobs.py"),
        (User("analyst", "analyst", PROVINCE), "pages/quality.py", "pages/data_in.py"),
    ):
        at = run(visible, user=u)
        assert not at.exception
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(hidden)


def test_admin_page_lists_accounts_and_audit(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/admin.py", user=User("admin", "admin", PROVINCE))
    frames = [e.value for e in at.get("dataframe")]
    assert any("officer_330102" in f.to_string() for f in frames)
    assert any("登录" in f.to_string() or "新建账号" in f.to_string() for f in frames)  # actions in words
    assert not any("sign_in" in f.to_string() or "account_create" in f.to_string() for f in frames)
    assert len([b for b in at.get("download_button")]) >= 2


def test_downloads_only_for_roles_that_download(app_db, use_db):  # noqa: F811
    use_db(app_db)
    leader = run("pages/rankings.py", user=User("leader", "leader", PROVINCE))
    assert len(leader.get("download_button")) == 0  # a leader reads
    analyst = run("pages/rankings.py", user=User("analyst", "analyst", PROVINCE))
    assert len(analyst.get("download_button")) >= 2
