"""The one read boundary (metrics.access): scope rules live there and nowhere else.

Two halves. The source half greps ui/ and pages/ for what would bypass or duplicate the boundary:
the old scope helpers (`allowed()`, `visible()`, `restriction()`, `scoped_engine()`), hand-written
scope predicates, `store` imports (only the app's start-up, app.py, may import it; ui/ and pages/ may
not), and Streamlit caches outside ui/data.py. The behaviour half asks a `Reader` for every kind of
read as a city leader (丽水 331100) and a county officer (上城区 330102) and checks that rows about
other regions are left out and explicit requests for them are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from ingest.bootstrap import create_demo_database
from metrics import access, open_engine
from metrics import problems as mp
from metrics.access import Reader, Scope
from metrics.geography import PROVINCE, geography
from metrics.periods import Period
from metrics.schemes import schemes

ROOT = Path(__file__).resolve().parent.parent
LISHUI, HZ, SHANGCHENG, XIHU, LIANDU = "331100", "330100", "330102", "330106", "331102"
DEMO_TODAY = dt.date(2022, 4, 1)  # a short history: 2021-01..2022-03
MONTH = "2022-03"
KPI = "online_handling_rate"
GEO = geography()


# -- the source ------------------------------------------------------------------------------------------------
def _sources() -> list[Path]:
    return sorted([*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")])


def _code(path: Path) -> str:
    """The file without comments and docstrings' prose lines (a comment may name an old helper)."""
    return "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())


FORBIDDEN = {
    "old scope helper": re.compile(r"\b(allowed|visible|restriction|scoped_engine|allowed_regions)\(\)|"
                                   r"\bdata\.(allowed|visible|restriction|scoped_engine)\b"),
    "scope predicate": re.compile(r"\.partition\(\":\"\)\[2\] in\b|\bscope_regions\(|\bvisible_townships\b|"
                                  r"\bfilter_regions\b|\bScopedEngine\b|\bin_scope\(|\bscope_code\s*[!=]="),
    "store import": re.compile(r"^\s*(from store\b|import store\b)|\bdatabase_url\b", re.M),
    "hand-made cache": re.compile(r"@st\.cache_(data|resource)|st\.cache_(data|resource)\(|\b_CACHED\b"),
}


@pytest.mark.parametrize("kind", list(FORBIDDEN))
def test_ui_and_pages_do_not_bypass_the_boundary(kind):
    pattern = FORBIDDEN[kind]
    hits = []
    for path in _sources():
        if kind == "hand-made cache" and path == ROOT / "ui" / "data.py":
            continue  # the one cache module
        if kind == "store import" and path == ROOT / "ui" / "data.py":
            text = _code(path)  # it keys the cache on the database URL, which it gets from metrics.access
            if re.search(r"^\s*(from store\b|import store\b)", text, re.M):
                hits.append(str(path.relative_to(ROOT)))
            continue
        if pattern.search(_code(path)):
            hits.append(str(path.relative_to(ROOT)))
    assert not hits, f"{kind} in {hits}: read through ui.data.reader() (metrics.access) instead"


def test_ui_data_does_not_import_ui_auth():
    """ui.auth builds on ui.data (the engine, the session's user key): the arrow runs one way."""
    text = _code(ROOT / "ui" / "data.py")
    assert not re.search(r"^\s*(from ui import [^\n]*\bauth\b|import ui\.auth|from ui\.auth)", text, re.M)


# -- the behaviour ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('boundary') / 'demo.sqlite'}"
    create_demo_database(url, seed=2021, today=DEMO_TODAY)
    eng = open_engine(url)
    yield eng
    eng.store.engine.dispose()


@pytest.fixture(scope="module")
def lishui(engine) -> Reader:
    return Reader.for_code(engine, LISHUI)


@pytest.fixture(scope="module")
def officer(engine) -> Reader:
    return Reader.for_code(engine, SHANGCHENG)


@pytest.fixture(scope="module")
def province(engine) -> Reader:
    return Reader.for_code(engine, PROVINCE)


def _mine(code: str) -> frozenset[str]:
    return frozenset({code, *GEO.counties_of(code)}) if code == LISHUI else frozenset({code})


def test_scopes_are_the_policys():
    from auth import policy

    for code in (PROVINCE, LISHUI, HZ, SHANGCHENG, LIANDU):
        assert Scope.of(code, GEO).regions == policy.scope_regions(code)
    assert Scope.of(PROVINCE, GEO).full and not Scope.of(LISHUI, GEO).full
    assert Scope.of(None, GEO).regions == frozenset()
    with pytest.raises(ValueError):
        Scope.of("SHANQU26", GEO)


def test_nobody_reads_nothing(engine):
    nobody = Reader.for_code(engine, None)
    assert nobody.bulk(MONTH).empty and nobody.counties() == [] and nobody.cities() == []
    with pytest.raises(PermissionError):
        nobody.value(KPI, SHANGCHENG, MONTH)


@pytest.mark.parametrize("who", [LISHUI, SHANGCHENG])
def test_bulk_trend_and_value(engine, who):
    read, mine = Reader.for_code(engine, who), _mine(who)
    bulk = read.bulk(MONTH)
    assert len(bulk) > 0 and set(bulk["region"]) <= mine
    assert len(Reader.for_code(engine, PROVINCE).bulk(MONTH)) > len(bulk)
    tr = read.trend([KPI], [SHANGCHENG, LIANDU, XIHU, PROVINCE, HZ], Period.parse(MONTH), 3)
    assert set(tr["region"]) == {SHANGCHENG, LIANDU, HZ, XIHU, PROVINCE} & mine
    for r in (XIHU, PROVINCE, HZ if who == LISHUI else LIANDU):
        with pytest.raises(PermissionError):
            read.value(KPI, r, MONTH)
    assert read.value(KPI, who, MONTH).region == who


def test_what_the_scope_holds(lishui, officer, province):
    assert lishui.counties() == GEO.counties_of(LISHUI) and lishui.cities() == [LISHUI]
    assert lishui.zooms() == [LISHUI] and officer.zooms() == [] and officer.counties() == [SHANGCHENG]
    assert province.zooms() == [PROVINCE, *GEO.cities]
    assert lishui.views() == [LISHUI] and officer.views() == [SHANGCHENG]
    on = Period.parse(MONTH).end
    assert lishui.populations(on) == ["counties", f"city:{LISHUI}"]
    assert officer.populations(on, townships=True) == ["counties", "townships"]
    assert "cities" in province.populations(on) and any(p.startswith("group:") for p in province.populations(on))
    assert lishui.groups(on) == [f"city:{LISHUI}"] and officer.groups(on) == []
    assert lishui.peer_options(on) == [f"city:{LISHUI}"] and officer.peer_options(on) == [f"city:{HZ}"]


def test_townships(officer, lishui):
    mine, other = GEO.townships_of(SHANGCHENG)[0], GEO.townships_of(XIHU)[0]
    towns = officer.townships(MONTH)
    assert set(towns["county"]) <= {SHANGCHENG}
    assert set(lishui.townships(MONTH)["county"]) <= set(GEO.counties_of(LISHUI))
    assert set(officer.townships(MONTH, SHANGCHENG)["county"]) <= {SHANGCHENG}
    with pytest.raises(PermissionError):
        officer.townships(MONTH, XIHU)
    assert officer.township_allowed(mine) and not officer.township_allowed(other)
    kpi = officer.engine.township_kpis()[0]
    officer.township_trend(kpi, mine, SHANGCHENG, Period.parse(MONTH))
    with pytest.raises(PermissionError):
        officer.township_trend(kpi, other, XIHU, Period.parse(MONTH))


@pytest.mark.parametrize("who", [LISHUI, SHANGCHENG])
def test_league_scheme_and_lists(engine, who):
    read, mine = Reader.for_code(engine, who), _mine(who)
    league = read.league(KPI, MONTH, "counties", "flag", None)
    assert len(league) > 0 and set(league["region"]) <= mine
    with pytest.raises(PermissionError):
        read.league(KPI, MONTH, f"city:{HZ if who == LISHUI else LISHUI}", "flag", None)
    res = read.scheme(schemes().schemes[0].code, MONTH, None)
    assert set(res.scores["region"]) <= mine and set(res.components["region"]) <= mine
    assert set(read.lists(MONTH)["region"]) <= mine


def test_comparison_and_position(lishui, officer):
    n = len(GEO.counties_of(LISHUI))
    pos = lishui.position([LIANDU], [KPI], MONTH, "counties")
    assert set(pos["region"]) <= _mine(LISHUI) and int(pos["peer_n"].max()) <= n
    tr = lishui.comparison([LIANDU], [KPI], MONTH, "counties", months=3)
    assert set(tr["region"]) <= _mine(LISHUI)
    for read, county in ((lishui, XIHU), (officer, LIANDU)):
        with pytest.raises(PermissionError):
            read.position([county], [KPI], MONTH, "counties")
        with pytest.raises(PermissionError):
            read.comparison([county], [KPI], MONTH, "counties")


def test_forecasts_are_scoped(engine, monkeypatch):
    everyone = pd.DataFrame({"kpi": KPI, "region": [PROVINCE, HZ, SHANGCHENG, XIHU, LISHUI, LIANDU], "prob": 0.5})
    monkeypatch.setattr(access, "_forecasts", lambda eng, month, kpis: everyone)
    for who in (LISHUI, SHANGCHENG):
        got = Reader.for_code(engine, who).forecasts(Period.parse(MONTH))
        assert set(got["region"]) == _mine(who) & set(everyone["region"])
    assert len(Reader.for_code(engine, PROVINCE).forecasts(Period.parse(MONTH))) == len(everyone)


def test_apps(lishui, officer, province):
    p = Period.parse(MONTH)
    lishui.apps_league(p, LISHUI)
    officer.apps_league(p, HZ)  # usage is kept by city: a county reads its own city's table
    province.apps_league(p, None)
    for read, city in ((lishui, HZ), (lishui, None), (officer, LISHUI), (officer, None)):
        with pytest.raises(PermissionError):
            read.apps_league(p, city)


def test_the_pack_is_the_provinces(engine, province, lishui, officer):
    """The meeting pack shows every region as known at a moment: only the province scope gets the
    engine it is built from (the pack and presentation pages ask the boundary, not the user's code)."""
    assert province.whole_province() is engine
    for read in (lishui, officer, Reader.for_code(engine, None)):
        with pytest.raises(PermissionError):
            read.whole_province()


def test_problems(engine, lishui, officer):
    allp = mp.load_problems(engine.store.engine)
    assert set(lishui.problems()["region_code"]) <= _mine(LISHUI)
    assert set(officer.problems()["region_code"]) <= {SHANGCHENG}
    assert set(lishui.problem_regions(Period.parse(MONTH))["region"]) <= _mine(LISHUI)
    out = allp[allp["region_code"] == SHANGCHENG].iloc[0]
    with pytest.raises(PermissionError):
        lishui.problem(out["code"])
    with pytest.raises(PermissionError):
        lishui.problem_events(int(out["id"]))
    assert officer.problem(out["code"])["region_code"] == SHANGCHENG
    assert len(officer.problem_events(int(out["id"]))) > 0


def test_the_memo_shares_unscoped_reads_across_scopes(engine):
    calls: list[str] = []
    store: dict = {}

    def memo(fn):
        def run(eng, *args):
            key = (fn.__name__, args)
            if key not in store:
                calls.append(fn.__name__)
                store[key] = fn(eng, *args)
            return store[key]
        return run

    a, b = Reader.for_code(engine, LISHUI, memo), Reader.for_code(engine, SHANGCHENG, memo)
    assert set(a.bulk(MONTH)["region"]) != set(b.bulk(MONTH)["region"])
    assert calls == ["_bulk"]
