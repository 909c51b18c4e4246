"""The maps: colours equal the engine's status (so the map agrees with the rankings), the value scale
is held fixed across months, the 山区 outline follows the group valid at the period, the city map
shows the engine's city aggregates, and pages/map.py renders every view (AppTest).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from auth.accounts import User
from metrics import open_engine
from metrics.league import league_table
from metrics.periods import Period
from tests.app_helpers import demo_db_url, html_text, run
from ui import fmt, maps
from ui.texts import maps as texts

PERIOD = "2022-03"  # the short demo database's last month
RATIO, DOWN, COUNT = "online_handling_rate", "bad_rating_rate", "zlb_dau"
LISHUI_LEADER = User("lishui_leader", "leader", "331100")  # a demo account: a city's leader


@pytest.fixture(scope="module")
def eng(tmp_path_factory):
    return open_engine(demo_db_url(tmp_path_factory))


def _hex_rgb(c: str) -> list[int]:
    return [int(c[i:i + 2], 16) for i in (1, 3, 5)]


# -- colours = engine status = rankings -------------------------------------------------------------
@pytest.mark.parametrize("kpi", [RATIO, DOWN, COUNT])
def test_county_colour_is_the_engine_status(eng, kpi):
    geo, k = eng.geo, eng.catalogue.kpi(kpi)
    bulk = eng.bulk(PERIOD)
    rows = maps.region_rows(bulk, kpi, geo.counties)
    flat = maps.figure_colours(maps.region_map(rows, k, geo, "zh", colour="status", labels=True))
    deck = maps.deck_colours(maps.deck_3d(rows, k, geo, "zh", colour="status"))
    league = league_table(eng, kpi, PERIOD, "counties", trend_months=0).set_index("region")
    assert len(flat) == 90 and len(deck) == 90
    seen = set()
    for county in geo.counties:
        status = eng.value(kpi, county, PERIOD).status  # the engine's single-figure answer
        seen.add(status)
        assert flat[county] == fmt.STATUS_COLOURS[status], county
        assert deck[county][:3] == _hex_rgb(fmt.STATUS_COLOURS[status]), county
        assert league.loc[county, "status"] == status  # the rankings say the same
        rank = rows.set_index("region").loc[county, "rank"]
        theirs = league.loc[county, "rank"]
        assert (int(rank) == int(theirs)) if fmt.is_num(rank) else pd.isna(theirs), county
    if k.format == "percent":
        assert len(seen & {"green", "amber", "red"}) >= 2, seen  # a meaningful check: several colours
        assert maps.effective_colour(bulk, k, geo.counties, "status") == "status"
    else:  # a count has no county target: all 'none' (or missing), so the map switches to value colours
        assert seen <= {"none", "missing"}
        assert maps.effective_colour(bulk, k, geo.counties, "status") == "value"


def test_city_colours_and_aggregates(eng):
    geo, k = eng.geo, eng.catalogue.kpi(RATIO)
    bulk = eng.bulk(PERIOD)
    rows = maps.region_rows(bulk, RATIO, geo.cities)
    fig = maps.region_map(rows, k, geo, "zh", kind="cities", colour="status", labels=True)
    colours = maps.figure_colours(fig)
    assert sorted(colours) == geo.cities
    for city in geo.cities:
        res = eng.value(RATIO, city, PERIOD)
        assert colours[city] == fmt.STATUS_COLOURS[res.status]
        counties = bulk[(bulk["kpi"] == RATIO) & bulk["region"].isin(geo.counties_of(city))]
        row = rows.set_index("region").loc[city]
        if res.complete:  # a city's rate is its counties' cases over their denominators
            assert row["value"] == pytest.approx(counties["numerator"].sum() / counties["denominator"].sum())
        assert (pd.isna(row["rank"]) and res.rank is None) or int(row["rank"]) == res.rank
    cities = league_table(eng, RATIO, PERIOD, "cities", trend_months=0).set_index("region")
    assert all(cities.loc[c, "status"] == rows.set_index("region").loc[c, "status"] for c in geo.cities)
    # a count's city value is the sum of its counties
    dau = maps.region_rows(bulk, COUNT, geo.cities).set_index("region")
    for city in geo.cities:
        vals = bulk[(bulk["kpi"] == COUNT) & bulk["region"].isin(geo.counties_of(city))]["value"]
        if vals.notna().all():
            assert dau.loc[city, "value"] == pytest.approx(vals.sum())
    assert fig.to_dict()["data"][0]["geojson"]["features"][0]["properties"]["code"] in geo.cities


# -- value colours: fixed scale across months -------------------------------------------------------
def test_value_scale_is_fixed_across_months(eng):
    geo, k = eng.geo, eng.catalogue.kpi(COUNT)
    end = Period.parse(PERIOD)
    tr = eng.trend([COUNT], geo.counties, end, 12)
    rng = maps.value_range(tr["value"], k)
    assert rng is not None and rng[0] < rng[1]
    seen = []
    for month in ("2021-04", "2021-10", "2022-03"):
        rows = maps.region_rows(eng.bulk(month), COUNT, geo.counties)
        fig = maps.region_map(rows, k, geo, "zh", colour="value", zrange=rng).to_dict()
        tr0 = fig["data"][0]
        assert (tr0["zmin"], tr0["zmax"]) == rng  # the same scale in every month
        vals = [v for v in rows["value"] if fmt.is_num(v)]
        assert rng[0] - 1e-6 <= min(vals) and max(vals) <= rng[1] + 1e-6  # the range covers each month
        ticks = tr0["colorbar"]["ticktext"]
        assert all(x.endswith("人") for x in ticks)  # legend in the KPI's unit
        colours = maps.figure_colours(fig)
        seen.append(colours)
        # brighter = more (direction up): colour luminance rises with the value
        ordered = sorted((v, c) for v, c in zip(rows["value"], rows["region"], strict=True) if fmt.is_num(v))
        lum = [sum(_hex_rgb(colours[c])) for _, c in ordered]
        assert lum[0] <= lum[-1] and all(b >= a - 3 for a, b in zip(lum, lum[1:], strict=False))
    assert seen[0] != seen[-1]  # the months differ, the scale does not


def test_value_scale_turns_with_direction(eng):
    up, down = eng.catalogue.kpi(RATIO), eng.catalogue.kpi(DOWN)
    assert maps.value_scale(up)[-1][1] == maps.value_scale(down)[0][1]  # brightest = best either way
    assert maps.scale_colour(maps.value_scale(down), 0.0) == maps.VALUE_SCALE[-1][1]
    assert maps.value_range([0.5, 0.5], up) == (pytest.approx(47.5), pytest.approx(52.5))  # flat data
    assert maps.value_range([None, float("nan")], up) is None


# -- the 山区 peer group by date ---------------------------------------------------------------------
def test_peer_outline_follows_the_group_valid_at_the_period(eng):
    geo = eng.geo
    before, after = dt.date(2024, 7, 31), dt.date(2024, 8, 31)
    assert maps.mountain_group(geo, dt.date(2022, 3, 31)) == "SHANQU26"
    assert maps.mountain_group(geo, before) == "SHANQU26"
    assert maps.mountain_group(geo, after) == "SHANQU_HAIDAO25"
    old, new = geo.members("SHANQU26", before), geo.members("SHANQU_HAIDAO25", after)
    assert len(old) == 26 and len(new) == 25
    names = {c: geo.get(c).name_zh for c in geo.counties}
    assert {names[c] for c in set(old) - set(new)} == {"平阳县", "柯城区", "莲都区"}  # left in 2024-08
    assert {names[c] for c in set(new) - set(old)} == {"洞头区", "嵊泗县"}  # joined
    # the outline is the union's boundary: members' shared borders cancel out
    lishui = geo.counties_of("331100")
    assert len(maps.outline_paths(lishui)) == 1  # one ring around a contiguous city
    county_edges = sum(len(p) - 1 for c in lishui for p in maps.outline_paths([c]))
    assert sum(len(p) - 1 for p in maps.outline_paths(lishui)) < county_edges
    pts = {(round(x, 6), round(y, 6)) for p in maps.outline_paths(old) for x, y in p}
    member_pts = {(round(x, 6), round(y, 6)) for c in old for p in maps.outline_paths([c]) for x, y in p}
    assert pts <= member_pts
    fig = maps.region_map(maps.region_rows(eng.bulk(PERIOD), RATIO, geo.counties), eng.catalogue.kpi(RATIO), geo,
                          "zh", outline=old, outline_name="山区26县").to_dict()
    line = [t for t in fig["data"] if t["type"] == "scattergeo" and t.get("name") == "山区26县"]
    assert line and line[0]["line"]["width"] >= 3 and line[0]["hoverinfo"] == "skip"


# -- labels and geometry -------------------------------------------------------------------------------
def _inside(pt: tuple[float, float], poly: list) -> bool:
    x, y = pt
    hit = False
    for ring in poly:
        for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:], strict=False):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
    return hit


def test_labels_sit_inside_their_region_and_are_unique(eng):
    geo = eng.geo
    for kind in ("counties", "cities"):
        pts = maps.label_points(kind)
        feats = {f["properties"]["code"]: f for f in maps.boundaries(kind)["features"]}
        assert set(pts) == set(geo.counties if kind == "counties" else geo.cities)
        for code, pt in pts.items():
            assert any(_inside(pt, p) for p in maps._polygons(feats[code])), code
    for lang in ("zh", "en"):
        short = [maps.short_name(geo.get(c).name(lang), lang) for c in geo.counties]
        assert len(set(short)) == 90, lang
    assert maps.short_name("景宁畲族自治县", "zh") == "景宁" and maps.short_name("上城区", "zh") == "上城"


def test_deck_has_no_outside_basemap(eng):
    geo, k = eng.geo, eng.catalogue.kpi(COUNT)
    deck = maps.deck_3d(maps.region_rows(eng.bulk(PERIOD), COUNT, geo.counties), k, geo, "zh", colour="value")
    spec = json.loads(deck.to_json())
    assert spec["mapStyle"] == maps.BLANK_STYLE_URL and "mapProvider" not in spec
    assert "cartocdn" not in deck.to_json() and "mapbox://" not in deck.to_json()
    layer = next(x for x in spec["layers"] if x["id"] == "regions")
    assert layer["extruded"] is True and len(layer["data"]["features"]) == 90
    elev = {f["properties"]["code"]: f["properties"]["elev"] for f in layer["data"]["features"]}
    vals = maps.region_rows(eng.bulk(PERIOD), COUNT, geo.counties).set_index("region")["value"]
    hi, lo = vals.idxmax(), vals.idxmin()
    assert elev[hi] > elev[lo] > 0  # height by value


def test_map_texts_match_between_languages():
    from i18n import placeholders

    assert set(texts.ZH) == set(texts.EN) and all(k.startswith("maps_") for k in texts.ZH)
    for key in texts.ZH:
        assert placeholders(texts.ZH[key]) == placeholders(texts.EN[key]), key


# -- the page (AppTest) -------------------------------------------------------------------------------
def _figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_map_page_ratio_kpi(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=RATIO, peer="1")
    fig = _figure(at)
    choro = fig["data"][0]
    assert choro["type"] == "choropleth" and len(choro["locations"]) == 90
    labels = next(t for t in fig["data"] if t.get("mode") == "text")
    assert "上城" in labels["text"] and len(labels["text"]) == 90
    assert any(t.get("name") == "山区26县" for t in fig["data"])  # 2022: the 26-county group
    body = html_text(at)
    assert "达标" in body and "缺报" in body  # status legend
    assert at.select_slider(key="month").value == PERIOD
    assert len(at.select_slider(key="month").options) == 12
    assert "目标" in choro["text"][0] and "较上月" in choro["text"][0] and "排名" in choro["text"][0]


def test_map_page_count_kpi_value_colours(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=COUNT, month="2021-10")
    choro = _figure(at)["data"][0]
    assert choro.get("showscale") is not False and choro["colorbar"]["ticktext"][0].endswith("人")
    assert at.select_slider(key="month").value == "2021-10"
    body = html_text(at)
    assert "2021-10" in body and "按数值着色" in body and "色阶固定" in body


def test_map_page_city_level_and_zoom(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=RATIO, level="city")
    assert len(_figure(at)["data"][0]["locations"]) == 11
    at = run("pages/map.py", kpi=RATIO, city="330100")
    fig = _figure(at)
    assert sorted(fig["data"][0]["locations"]) == sorted(open_engine(app_db).geo.counties_of("330100"))
    assert "上城区" in next(t for t in fig["data"] if t.get("mode") == "text")["text"]  # full names when zoomed
    assert any(b.label == "返回全省" for b in at.button)


def test_map_page_selected_county_panel(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=RATIO, county="330282")
    body = html_text(at)
    assert 'data-county="330282"' in body and "慈溪市" in body and "缺报" in body  # the overdue county
    links = [e.proto for e in at.get("page_link")]
    assert any("county=330282" in lk.query_string and lk.page == "county" for lk in links)
    assert any(t.get("line", {}).get("color") == maps.SELECTED_COLOUR for t in _figure(at)["data"])


def test_map_page_3d_and_english(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=RATIO, view="3d", lang="en")
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    spec = json.loads(decks[0].proto.json)
    assert spec["mapStyle"] == maps.BLANK_STYLE_URL and "cartocdn" not in decks[0].proto.json
    assert "Hangzhou" in decks[0].proto.json and "Target" in decks[0].proto.json  # English tooltips
    assert "目标" not in html_text(at) and "Colour by" not in html_text(at)


def test_map_page_empty_database(empty_db, use_db):  # noqa: F811
    use_db(empty_db)
    at = run("pages/map.py")
    assert not at.get("plotly_chart")


def test_map_page_kiosk_and_city_scope(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/map.py", kpi=RATIO, kiosk="1")
    assert len(_figure(at)["data"][0]["locations"]) == 90
    at = run("pages/map.py", kpi=RATIO, scope="330600")  # the province picked a city: it opens zoomed there
    assert sorted(_figure(at)["data"][0]["locations"]) == open_engine(app_db).geo.counties_of("330600")
    assert at.get("download_button")  # the reform office may download the numbers behind the map


def test_map_page_respects_the_users_scope(app_db, use_db):  # noqa: F811
    """A city-scoped leader sees only their city's counties, one city at city level, no downloads."""
    use_db(app_db)
    lishui = open_engine(app_db).geo.counties_of("331100")
    at = run("pages/map.py", user=LISHUI_LEADER, kpi=RATIO)
    assert sorted(_figure(at)["data"][0]["locations"]) == lishui
    assert not at.get("download_button")  # a leader reads, does not export
    assert not any(b.label == "返回全省" for b in at.button)
    at = run("pages/map.py", user=LISHUI_LEADER, kpi=RATIO, level="city")
    assert _figure(at)["data"][0]["locations"] == ["331100"]
    at = run("pages/map.py", user=LISHUI_LEADER, kpi=RATIO, county="330102")  # another city's county
    assert 'data-county="330102"' not in html_text(at)


def test_fresh_copy_keeps_the_shared_cached_figure_intact():
    """A cached map dict is drawn by many sessions: drawing a per-run copy must never touch it."""
    import plotly.graph_objects as go_

    from ui.maps import fresh

    cached = go_.Figure(go_.Scatter(x=[1], y=[2]), layout={"height": 300}).to_dict()
    copy = fresh(cached)
    assert copy == cached and copy["data"][0] is not cached["data"][0] and copy["layout"] is not cached["layout"]
    copy["data"][0].pop("type")  # what Plotly does to a trace while st.plotly_chart draws it
    copy["layout"]["height"] = 1
    assert cached["data"][0]["type"] == "scatter" and cached["layout"]["height"] == 300


def test_cached_map_dict_draws_the_chart_it_drew_before(eng):
    """A cached map drawn with maps.prebuilt (no second validation) gives st.plotly_chart the same JSON as
    before: the same chart, element id and selection, follow-up markers and the system page's outline
    included."""
    import plotly.graph_objects as go
    import plotly.io
    import plotly.tools

    from ui.system_dash import _outline

    def spec(fig):  # what st.plotly_chart sends to the browser
        return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True),
                                 validate=False)

    geo = eng.geo
    for kpi, colour in [(RATIO, "status"), (COUNT, "value")]:
        fig = maps.county_map(eng.bulk(PERIOD), eng.catalogue.kpi(kpi), list(geo.counties), geo, "zh", colour=colour)
        cached = maps.figure_dict(fig)
        assert spec(maps.prebuilt(maps.fresh(cached))) == spec(fig.to_dict())
        mark = go.Scattergeo(lon=[120.1], lat=[30.3], mode="markers", customdata=[["330102"]], hoverinfo="text",
                             marker=dict(symbol="diamond", size=15, line=dict(color="#f59e0b", width=3)))
        before = fig.to_dict()
        assert (spec(maps.prebuilt({**maps.fresh(cached), "data": [*cached["data"], mark.to_plotly_json()]}))
                == spec({**before, "data": [*before["data"], mark.to_plotly_json()]}))
        old_outline = go.Figure(fig.to_dict())
        old_outline.add_trace(go.Choropleth(
            geojson=maps.boundaries_of(("330102",)), featureidkey="properties.code", locations=["330102"], z=[0],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker_line_color="#f8fafc", marker_line_width=3, hoverinfo="skip"))
        assert spec(maps.prebuilt(_outline(maps.fresh(cached), "330102"))) == spec(old_outline)
