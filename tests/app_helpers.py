"""Helpers of the AppTest page tests: the short-history demo database, running a page signed in,
reading its HTML, filling and uploading a county's report on the data page. The fixtures built on
them (app_db, db_copy, empty_db, use_db, navigation_mode) are in conftest.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from auth.accounts import User
from ingest.bootstrap import create_demo_database
from ingest.templates import fill_template, reported_measures, sample_report, template_bytes
from store import Store
from tests.helpers import overwrite_cells
from ui.auth import sign_in_session

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 60
# 2022-03-01 trips ingest.demo on a 14-month history (reported); 2022-04-01 gives 2021-01..2022-03
DEMO_TODAY = dt.date(2022, 4, 1)
OVERDUE = ("330282", "330802")  # counties the seed-2021 generator leaves unreported in the last month
REPORT_MONTH = "2022-03"  # the demo's latest month: the data-page tests report it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def demo_db_url(tmp_path_factory) -> str:
    """One short-history demo database per test session (shared by the app test modules)."""
    path = tmp_path_factory.getbasetemp() / "app-demo.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        create_demo_database(url, seed=2021, today=DEMO_TODAY)
    return url


# Tests sign in the way the sign-in form does: by putting the user in the server-side session
# state (ui.auth.sign_in_session). The browser cannot set session state, so there is no bypass.
OFFICE = User("office", "office", "330000")
ADMIN = User("admin", "admin", "330000")
ADMIN_PAGES = ("pages/jobs.py", "pages/admin.py")


def signed_in(at: AppTest, user: User | None) -> AppTest:
    if user is not None:
        sign_in_session(at.session_state, user)
    return at


def run(page: str | None = None, *, user: User | None | bool = True, **params: str) -> AppTest:
    """Run the app (then switch to `page`) signed in as the reform office (admin for admin pages),
    as `user`, or anonymously (user=None)."""
    if user is True:
        user = ADMIN if page in ADMIN_PAGES else OFFICE
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT), user or None)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        for k, v in params.items():  # a page switch starts from a clean URL, as in the browser
            at.query_params[k] = v
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def html_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.get("html"))


# -- a county's report on the data page ------------------------------------------------------------
def filled_report(county: str, values: dict[str, float] | None = None, bad: dict[str, object] | None = None,
                  month: str = REPORT_MONTH) -> bytes:
    """The county's template for `month` filled in; `bad` writes raw cell values by measure code."""
    data = fill_template(template_bytes(county, month), values or sample_report(county, month))
    return overwrite_cells(data, bad) if bad else data


def stored(url: str, county: str, month: str = REPORT_MONTH) -> dict[str, float]:
    """The county's current values of the reported measures for `month`."""
    s = Store(url)
    day = dt.date.fromisoformat(month + "-01")
    df = s.current_values([m.code for m in reported_measures()], day, day, [county])
    s.engine.dispose()
    return dict(zip(df["measure_code"], df["value"], strict=True))


def plausible(url: str, county: str) -> dict[str, float]:
    """REPORT_MONTH's report as the county would send it: last month's figures, 1% up (passes every check)."""
    return {k: round(v * 1.01) for k, v in stored(url, county, "2022-02").items()}


def upload(at: AppTest, name: str, data: bytes, user: str | None = "张三") -> AppTest:
    """Upload `data` as file `name` on the data page (typing the submitter first unless None)."""
    if user is not None:
        at.text_input(key="data_user").input(user)
    at.file_uploader(key="data_upload_0").set_value((name, data, XLSX if name.endswith("xlsx") else "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at
