"""The scope matrix: every page and every region-bearing URL parameter, for a city leader (丽水), a
county officer (上城区) and a city-scoped analyst (丽水), with values outside their scope.

Each case renders the page through AppTest (signed in the way the form does) and checks the page's
text (markdown, html, captions, metrics, tables, selectbox options, Plotly figure data) and the data of
every download button for regions outside the scope (codes and names of other cities and counties)
and for province-level aggregates (全省 traces, the province code, peer statistics over more counties
than the scope holds). A value outside the scope must be refused (a visible error) and be exactly one
`denied` audit entry; a page the role does not have is not registered, and asking for it is audited.

Also the data layer directly: the problem register, the refused-upload list and the comparison peers.
The demo database is built once per module and backend (SQLite; PostgreSQL with the `server` marker).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st_module
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from auth import accounts, audit, policy
from auth.accounts import User
from followup import demo as followup_demo
from ingest import quality as q
from ingest.bootstrap import create_demo_database
from metrics import open_engine
from metrics import problems as mp
from metrics.comparison import comparison_trends, peer_position
from metrics.geography import PROVINCE, geography
from store import Store
from store.schema_apps import problem
from store.schema_ingest import import_rejection
from tests.app_helpers import APP, DEMO_TODAY, TIMEOUT
from ui.auth import sign_in_session

pytestmark = pytest.mark.slow

LISHUI, HZ, SHANGCHENG, XIHU, QUZHOU = "331100", "330100", "330102", "330106", "330800"
LEADER = User("lishui_leader", "leader", LISHUI)
ANALYST = User("lishui_analyst", "analyst", LISHUI)
OFFICER = User("officer_330102", "officer", SHANGCHENG)
MONTH = "2022-03"
LEAK = "西湖区2022-02已报送值 87.5"  # what the office's refused upload quotes back
GEO = geography()
SYSTEMS = ("party", "government", "economy", "society", "culture", "rule_of_law", "grassroots", "platform")


# -- the database ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def scope_db(request, tmp_path_factory) -> dict:
    """A short-history demo database with demo accounts, a 丽水 analyst, follow-up items and refused
    uploads: the office's for 西湖区 (no county recorded), one each for 西湖区, 莲都区 and by the analyst."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('scope') / 'scope.sqlite'}"
    else:
        url = request.getfixturevalue("postgresql_url")
    create_demo_database(url, seed=2021, today=DEMO_TODAY)
    store = Store(url)
    accounts.create_user(store, ANALYST.username, "analyst-lishui", "analyst", LISHUI, by="test")
    items = followup_demo.seed(store, DEMO_TODAY)
    at = dt.datetime(2022, 3, 20, 10, 0)
    msg = [{"row": 2, "col": "C", "code": "not_number", "zh": f"与{LEAK}不一致", "en": f"differs from {LEAK}"}]
    rows = [(None, "office", "xihu_by_office.xlsx"), (XIHU, "office", "xihu.xlsx"),
            ("331102", "office", "liandu.xlsx"), (None, ANALYST.username, "mine_by_analyst.xlsx")]
    own = [{"row": 2, "col": "C", "code": "not_number", "zh": "不是数字", "en": "not a number"}]
    with store.engine.begin() as c:
        for region, who, name in rows:
            c.execute(import_rejection.insert().values(
                received_at=at, source="upload", region_code=region, period=MONTH, file_name=name, submitted_by=who,
                n_errors=1, n_warnings=0,
                messages=json.dumps(own if who == ANALYST.username else msg, ensure_ascii=False)))
        codes = dict(c.execute(sa.select(problem.c.region_code, problem.c.code).order_by(problem.c.id)).all())
    store.engine.dispose()
    quzhou_item = next(i for i in items if _item_region(url, i) == QUZHOU)
    return {"url": url, "problem_out": codes[SHANGCHENG], "problem_in": codes.get("331102"), "item_out": quzhou_item,
            "backend": request.param}


def _item_region(url: str, item_id: int) -> str:
    from followup import service as fs

    return fs.get(Store(url), item_id).figure.region


@pytest.fixture
def db(scope_db, monkeypatch) -> dict:
    monkeypatch.setenv("DATABASE_URL", scope_db["url"])
    return scope_db


# -- reading what a page shows --------------------------------------------------------------------------------
@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, bytes]]:
    """Every download button's file name and data, as the page hands them to Streamlit."""
    got: list[tuple[str, bytes]] = []
    original = st_module.download_button

    def spy(label, data=None, file_name=None, *args, **kwargs):
        raw = data if isinstance(data, bytes) else str(data).encode()
        got.append((str(file_name), raw))
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st_module, "download_button", spy)
    return got


def page_text(at: AppTest) -> str:
    """Everything the page shows except refusals (they name what was asked for)."""
    out: list[str] = []
    for kind in ("html", "markdown", "caption", "title", "header", "subheader", "warning", "info", "success",
                 "metric", "text", "json", "code", "table", "expander", "tab"):
        for e in at.get(kind):
            out.append(f"{getattr(e, 'value', '')} {getattr(e, 'label', '')}")
    for e in at.get("selectbox") + at.get("multiselect") + at.get("radio"):
        out += [str(o) for o in e.options]
    return "\n".join(out) + "\n" + data_text(at)


PROVINCE_STAT = re.compile(r"全省.*(中位|均值|平均|最高|最低)|province.*(median|mean|average)", re.I)


def traces(at: AppTest) -> list[dict]:
    return [tr for e in at.get("plotly_chart") for tr in json.loads(e.proto.spec).get("data", [])]


def data_text(at: AppTest) -> str:
    """Tables and figures: the data, where a province aggregate would show."""
    out: list[str] = []
    for e in at.get("dataframe"):
        out.append(e.value.to_csv() if hasattr(e.value, "to_csv") else str(e.value))
    for e in at.get("plotly_chart"):
        out.append(json.dumps(json.loads(e.proto.spec), ensure_ascii=False))
    return "\n".join(out)


def download_frames(files: list[tuple[str, bytes]]) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for name, raw in files:
        if name.endswith(".csv"):
            out.append((name, pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)))
        elif name.endswith(".xlsx"):
            ws = load_workbook(io.BytesIO(raw), read_only=True).active
            rows = [[("" if v is None else str(v)) for v in r] for r in ws.iter_rows(values_only=True)]
            out.append((name, pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()))
    return out


def forbidden(u: User) -> list[tuple[str, re.Pattern]]:
    """Codes and names of every city and county outside the user's scope, and the province's code (a
    county's own city is named beside it as a label — 上城区 · 杭州市 — so it is not counted)."""
    ok = policy.scope_regions(u.scope_code) | {GEO.regions[u.scope_code].parent_code or PROVINCE} - {PROVINCE}
    out = []
    for code, r in GEO.regions.items():
        if r.level in ("city", "county", "province") and code not in ok:
            out.append((code, re.compile(rf"(?<!\d){code}(?!\d)")))
            if r.level != "province":
                out.append((r.name_zh, re.compile(re.escape(r.name_zh))))
    return out


def leaks(u: User, at: AppTest, files: list[tuple[str, bytes]]) -> list[str]:
    found = []
    text = page_text(at)
    frames = download_frames(files)
    blob = text + "\n".join(f"{n}\n{df.to_csv(index=False)}" for n, df in frames)
    for label, pat in forbidden(u):
        m = pat.search(blob)
        if m:
            found.append(f"{label}: …{blob[max(0, m.start() - 40): m.end() + 20]!r}…")
    for trace in traces(at):  # a province statistic drawn (全省中位数, 全省平均 …)
        if PROVINCE_STAT.search(str(trace.get("name", ""))):
            found.append(f"province aggregate drawn: {trace.get('name')}")
    for e in at.get("dataframe"):  # a province column must stay empty for a scoped reader
        df = e.value.data if hasattr(e.value, "data") and not hasattr(e.value, "columns") else e.value
        for col in [c for c in getattr(df, "columns", []) if str(c).startswith("全省") and "排名" not in str(c)]:
            vals = {str(v) for v in df[col] if pd.notna(v)} - {"", "—", "-"}
            if vals:
                found.append(f"province column {col}: {sorted(vals)[:3]}")
    counties = [c for c in policy.scope_regions(u.scope_code) if GEO.regions[c].level == "county"]
    for name, df in frames:
        if "peer_n" in df.columns:
            n = pd.to_numeric(df["peer_n"], errors="coerce").max()
            if n > len(counties):
                found.append(f"{name}: peer statistics over {n} counties (scope holds {len(counties)})")
        if "peers" in df.columns and df["peers"].isin(["counties", "cities"]).any():
            found.append(f"{name}: peers = the province")
    if LEAK in blob or "xihu_by_office" in blob:
        found.append("the office's refused upload for 西湖区")
    return found


def refused(at: AppTest) -> bool:
    return any("权限范围" in str(e.value) for e in at.error)


def denied(url: str, u: User) -> pd.DataFrame:
    return audit.read(Store(url), user=u.username, action="denied")


def render(u: User, page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    sign_in_session(at.session_state, u)
    at.run()
    at.switch_page(page)
    for k, v in params.items():  # a deep link: the page with its URL parameters
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# -- the cases -----------------------------------------------------------------------------------------------------
def cases(db: dict) -> list[tuple[str, dict[str, str], bool]]:
    """(page, URL parameters, refused?) for a city-scoped reader (丽水)."""
    pb, item = db["problem_out"], str(db["item_out"])
    out = [
        ("overview", {}, False), ("overview", {"scope": HZ}, True), ("overview", {"scope": "杭州市"}, True),
        ("overview", {"scope": PROVINCE}, True),
        ("map", {}, False), ("map", {"county": XIHU}, True), ("map", {"county": "西湖区"}, True),
        ("map", {"city": HZ}, True),
        ("county", {}, False), ("county", {"county": XIHU}, True), ("county", {"county": "西湖区"}, True),
        ("rankings", {}, False), ("rankings", {"pop": f"city:{HZ}"}, True), ("rankings", {"pop": "group:SHANQU26"}, True),
        ("rankings", {"pop": PROVINCE}, True), ("rankings", {"pop": "浙江省"}, True),
        ("compare", {"counties": "331102", "kpis": "online_handling_rate", "mode": "value"}, False),
        ("compare", {"counties": "西湖区"}, True), ("compare", {"counties": "杭州市"}, True),
        ("compare", {"counties": "331102", "peers": "counties"}, True),
        ("compare", {"counties": "331102", "peers": "group:SHANQU26"}, True),
        ("compare", {"counties": "331102", "peers": "山区26县"}, True),
        ("system", {"system": "party", "section": "problems"}, False),
        ("system", {"system": "party", "section": "problems", "problem": pb}, True),
        ("system", {"system": "government", "section": "rollout"}, False),
        ("system", {"system": "platform", "section": "apps"}, False),
        ("system", {"system": "government", "county": XIHU}, True),
        ("system", {"system": "government", "city": HZ}, True),
        ("quality", {}, False), ("quality", {"city": HZ}, True),
        ("followup", {}, False), ("followup", {"item": item}, True),
    ]
    out += [("system", {"system": s}, False) for s in SYSTEMS]
    if db.get("problem_in"):
        out.append(("system", {"system": "party", "section": "problems", "problem": db["problem_in"]}, False))
    return out


def officer_cases(db: dict) -> list[tuple[str, dict[str, str], bool]]:
    return [
        ("data_in", {}, False), ("data_in", {"reporter": XIHU}, True), ("data_in", {"reporter": "西湖区"}, True),
        ("quality", {}, False), ("quality", {"city": HZ}, True), ("quality", {"city": "杭州市"}, True),
        ("followup", {}, False), ("followup", {"item": str(db["item_out"])}, True),
    ]


def page_file(page: str) -> str:
    return f"pages/{page}.py"


def check_case(db: dict, u: User, page: str, params: dict[str, str], refuse: bool, files: list) -> list[str]:
    """Problems with one case (empty when it is right)."""
    if not policy.may_see_page(u.role, page, u.scope_code):
        return []  # not registered for the role: see test_pages_the_role_lacks_are_refused_and_audited
    before = len(denied(db["url"], u))
    files.clear()
    at = render(u, page_file(page), params)
    bad = [f"{page} {params}: {x}" for x in leaks(u, at, files)]
    new = len(denied(db["url"], u)) - before
    if refuse and not refused(at):
        bad.append(f"{page} {params}: not refused")
    if new != (1 if refuse else 0):
        bad.append(f"{page} {params}: {new} audit entries (expected {1 if refuse else 0})")
    return bad


@pytest.mark.parametrize("who", [LEADER, ANALYST], ids=["lishui_leader", "lishui_analyst"])
def test_city_scope_matrix(db, downloads, who):
    problems = []
    for page, params, refuse in cases(db):
        problems += check_case(db, who, page, params, refuse, downloads)
    assert not problems, "\n".join(problems)


def test_county_officer_matrix(db, downloads):
    problems = []
    for page, params, refuse in officer_cases(db):
        problems += check_case(db, OFFICER, page, params, refuse, downloads)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("who", [LEADER, ANALYST, OFFICER], ids=["lishui_leader", "lishui_analyst", "officer"])
def test_pages_the_role_lacks_are_refused_and_audited(db, downloads, who):
    """A page the role lacks is not registered (Streamlit: page not found, the default page shows);
    asking for it by URL is one audit entry, and the page shown leaks nothing."""
    problems = []
    for page in policy.PAGES:
        if policy.may_see_page(who.role, page, who.scope_code):
            continue
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        sign_in_session(at.session_state, who)
        at.run()
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page_file(page))
        before = len(denied(db["url"], who))
        at._page_hash = calc_hash(page)  # what the browser asks for on /<page>
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        log = denied(db["url"], who)
        if len(log) - before != 1 or log.iloc[0]["target"] != f"page={page}":
            problems.append(f"{page}: audit {log.head(2).to_dict('records')}")
        problems += [f"{page}: {x}" for x in leaks(who, at, downloads)]
    assert not problems, "\n".join(problems)


def test_refusals_name_user_request_and_reason(db, downloads):
    """Each refusal's audit entry says who, what was asked and why; a rerun of the same request adds none."""
    at = render(LEADER, "pages/system.py", {"system": "party", "section": "problems", "problem": db["problem_out"]})
    row = denied(db["url"], LEADER).iloc[0]
    assert row["target"] == f"problem={db['problem_out']}" and SHANGCHENG in row["detail"]
    n = len(denied(db["url"], LEADER))
    at.run()  # a widget rerun of the same page
    assert len(denied(db["url"], LEADER)) == n
    render(LEADER, "pages/followup.py", {"item": str(db["item_out"])})
    row = denied(db["url"], LEADER).iloc[0]
    assert row["target"] == f"item={db['item_out']}" and "outside scope" in row["detail"]
    render(LEADER, "pages/compare.py", {"counties": "西湖区"})
    row = denied(db["url"], LEADER).iloc[0]
    assert row["target"] == "counties=西湖区" and XIHU in row["detail"]


# -- the data layer ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(scope_db):
    eng = open_engine(scope_db["url"])
    yield eng
    eng.store.engine.dispose()


def test_parameter_values_name_regions_by_code_name_and_inside_codes():
    assert policy.regions_named("WT-2021-330102-0001", GEO) == [SHANGCHENG]
    assert set(policy.regions_named("331102,西湖区", GEO)) == {"331102", XIHU}
    assert policy.regions_named("city:杭州市", GEO) == [HZ]
    assert policy.regions_named("group:SHANQU26", GEO) == ["SHANQU26"]
    assert policy.regions_named("online_handling_rate", GEO) == [] and policy.regions_named("2022-03", GEO) == []
    ok = policy.scope_regions(LISHUI)
    assert policy.outside_scope(["331102", "莲都区"], GEO, ok) == []
    assert policy.outside_scope(["浙江省"], GEO, ok) == [PROVINCE]


def test_problem_register_is_scoped(engine, scope_db):
    allp = mp.load_problems(engine.store.engine)
    ok = policy.scope_regions(LISHUI)
    assert set(mp.in_scope(allp, ok)["region_code"]) <= ok and len(mp.in_scope(allp, None)) == len(allp)
    with pytest.raises(PermissionError):
        mp.find_problem(allp, scope_db["problem_out"], ok)
    assert mp.find_problem(allp, scope_db["problem_out"], None)["region_code"] == SHANGCHENG
    assert mp.find_problem(allp, "WT-1999-000000-0000", ok) is None
    pid = int(allp.loc[allp["code"] == scope_db["problem_out"], "id"].iloc[0])
    with pytest.raises(PermissionError):
        mp.load_scoped_events(engine.store.engine, pid, ok)
    assert len(mp.load_scoped_events(engine.store.engine, pid, policy.scope_regions(SHANGCHENG))) > 0


def test_refused_uploads_are_scoped(engine):
    months = q.month_window(dt.date(2022, 3, 1), 12)
    store = engine.store
    everyone = q.rejections(store, months, unattributed=True)
    assert set(everyone["file_name"]) >= {"xihu_by_office.xlsx", "mine_by_analyst.xlsx"}
    officer = q.rejections(store, months, unattributed=True, allowed=policy.scope_regions(SHANGCHENG),
                           user=OFFICER.username)
    assert officer.empty
    analyst = q.rejections(store, months, unattributed=True, allowed=policy.scope_regions(LISHUI),
                           user=ANALYST.username)
    assert list(analyst["file_name"]) == ["mine_by_analyst.xlsx"]  # their own, nobody else's
    county = q.rejections(store, months, allowed=policy.scope_regions(LISHUI), user=ANALYST.username)
    assert "liandu.xlsx" in set(county["file_name"]) and "xihu.xlsx" not in set(county["file_name"])


def test_comparison_peers_are_in_scope(engine):
    ok = policy.scope_regions(LISHUI)
    n = len(GEO.counties_of(LISHUI))
    pos = peer_position(engine, ["331102"], ["online_handling_rate"], MONTH, "counties", allowed=ok)
    assert int(pos["peer_n"].max()) <= n and pos["peers"].iloc[0] == "counties"
    full = peer_position(engine, ["331102"], ["online_handling_rate"], MONTH, "counties")
    assert int(full["peer_n"].max()) > n
    lishui = engine.bulk(MONTH)
    vals = lishui[(lishui["kpi"] == "online_handling_rate") & lishui["region"].isin(GEO.counties_of(LISHUI))
                  & lishui["complete"].astype(bool)]["value"]
    assert pos["peer_max"].iloc[0] == pytest.approx(vals.max())
    tr = comparison_trends(engine, ["331102"], ["online_handling_rate"], MONTH, 3, "counties", allowed=ok)
    assert tr["peer_median"].notna().all()
    with pytest.raises(PermissionError):
        peer_position(engine, [XIHU], ["online_handling_rate"], MONTH, "counties", allowed=ok)
    from metrics.access import peer_options

    assert peer_options(GEO, DEMO_TODAY, ok) == [f"city:{LISHUI}"]
    assert peer_options(GEO, DEMO_TODAY, policy.scope_regions(SHANGCHENG)) == [f"city:{HZ}"]
    assert "counties" in peer_options(GEO, DEMO_TODAY, None)
