"""Shared fixtures: one database URL per backend, each test session on its own scratch database;
the demo databases and navigation mode of the page tests; the app server, Chromium and page of the
browser tests (their helpers: tests/app_helpers.py, tests/browser_helpers.py).

SQLite always runs. PostgreSQL and MariaDB/MySQL run against the servers on 127.0.0.1 (override
with TEST_POSTGRES_URL / TEST_MYSQL_URL). When CI=true (or COCKPIT_REQUIRE_SERVERS=1) a missing
server fails the run; on a laptop without servers those tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit import config as streamlit_config

from store.db import make_engine

# .streamlit/config.toml hides error details from browsers; tests want the full message:
# the env var reaches `streamlit run` servers, set_option the in-process AppTest runs.
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
streamlit_config.set_option("client.showErrorDetails", os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"])

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MY_ADMIN = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_SERVERS = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get(
    "COCKPIT_REQUIRE_SERVERS", ""
) in ("1", "true")


def _unavailable(name: str, exc: Exception) -> None:
    msg = f"{name} server not reachable ({exc.__class__.__name__}: {str(exc).splitlines()[0][:160]})"
    if REQUIRE_SERVERS:
        pytest.fail(msg + " — server-backed tests are mandatory in CI", pytrace=False)
    pytest.skip(msg + " — start it to run these tests (see README)")


def _scratch_server_db(admin_url: str, name: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    dbname = f"cockpit_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(admin_url)
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "server missing"
        _unavailable(name, exc)
    ac = admin.execution_options(isolation_level="AUTOCOMMIT")
    with ac.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {dbname}" + (" CHARACTER SET utf8mb4" if name == "mysql" else "")))
    url = sa.engine.make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with ac.connect() as conn:
            if name == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {dbname}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _scratch_server_db(PG_ADMIN, "postgresql")


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    yield from _scratch_server_db(MY_ADMIN, "mysql")


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.server),
        pytest.param("mysql", marks=pytest.mark.server),
    ],
)
def db_url(request, tmp_path_factory) -> str:
    """A scratch database URL per backend (session-scoped: tests reset what they need)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cockpit.sqlite'}"
    return request.getfixturevalue(f"{request.param}_url")


# -- the app's page tests (AppTest) ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def app_db(tmp_path_factory) -> str:
    """The short-history demo database, built once per test session."""
    from tests.app_helpers import demo_db_url

    return demo_db_url(tmp_path_factory)


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> str:
    """A migrated database with no figures."""
    from store import Store

    url = f"sqlite:///{tmp_path_factory.getbasetemp() / 'app-empty.sqlite'}"
    Store(url).migrate()
    return url


@pytest.fixture
def db_copy(app_db, tmp_path) -> str:
    """A private copy of the demo database, for a test that writes (sqlite backup: the WAL comes along)."""
    from tests.helpers import copy_sqlite

    dst_path = tmp_path / "demo-copy.sqlite"
    copy_sqlite(app_db, dst_path)
    return f"sqlite:///{dst_path}"


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch):
    """Run pages through app.py's st.navigation, as the server does.

    AppTest re-creates Streamlit's PagesManager on every run, which puts an app with a pages/
    folder back into legacy mode and would run a switched-to page without app.py. On the server
    the mode ends with the first st.navigation call (ui.shell forces that on a deep link; the
    browser tests cover it), so the tests start in the same state.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def use_db(monkeypatch):
    """`use_db(url)`: the app under test reads this database (DATABASE_URL)."""

    def use(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)

    return use


# -- the browser tests (headless Chromium) ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The app on the short-history demo database, one server per test module."""
    from bench.app_server import free_port, start_app, stop_app
    from tests.app_helpers import demo_db_url
    from tests.browser_helpers import require_chromium

    require_chromium()
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": demo_db_url(tmp_path_factory)})
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


@pytest.fixture(scope="module")
def browser():
    from bench.app_server import CHROMIUM, CHROMIUM_ARGS
    from tests.browser_helpers import require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def theme() -> str:
    """The colour theme of a browser test's pages (the wall's dark); layout tests parametrize it over
    both themes (tests.browser_helpers.THEMES), which overrides this default."""
    return "dark"


@pytest.fixture
def page(browser):
    """A 1920x1080 page that records the host of every request it makes, signed in:
    `goto` meets the sign-in gate and signs in as the reform office (the administrator for the
    admin-only pages) through the form, as a person would; the session cookie then carries over.
    Set `pg.auto_sign_in = False` to see the gate yourself."""
    from urllib.parse import urlparse

    from tests.browser_helpers import ADMIN_PATHS, at_gate, recording_page, sign_in, wait_finished

    # a dark system preference: the wall's look, so no test meets the one-off reload of a theme switch
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    pg = recording_page(ctx)
    pg.auto_sign_in, pg.cockpit_user = True, None
    plain_goto = pg.goto

    def goto(url: str, **kw):
        path = urlparse(url).path
        want = "admin" if path.startswith(ADMIN_PATHS) else "office"
        if pg.auto_sign_in and url.startswith("http") and pg.cockpit_user not in (None, want):
            ctx.clear_cookies()  # another role's session
            pg.cockpit_user = None
        resp = plain_goto(url, **kw)
        if pg.auto_sign_in and url.startswith("http"):
            wait_finished(pg)
            if at_gate(pg):
                sign_in(pg, want)
        return resp

    pg.goto = goto
    yield pg
    ctx.close()
