"""The two colour sets and the chart config, without a browser: every text colour of each palette
reads on its panels (WCAG AA), the chart toolbar offers only the PNG download, light charts swap
their text and grid colours and leave maps alone."""

from __future__ import annotations

import plotly.graph_objects as go

from pack.map_layout import AA_NORMAL, contrast
from ui import theme
from ui.chart_style import chart_config, chart_name, themed

TEXT_ROLES = ("strong", "text", "text2", "muted", "faint", "accent", "accent2", "link", "rep", "warn")


def test_both_palettes_define_the_same_variables():
    assert set(theme.PALETTES["dark"]) == set(theme.PALETTES["light"])
    assert "--c-" in theme.variables("light") and theme.variables("nonsense") == theme.variables("dark")


def test_every_text_colour_passes_aa_on_the_page_and_the_panels():
    for name, pal in theme.PALETTES.items():
        for role in TEXT_ROLES:
            for ground in ("bg", "panel", "panel-hover", "panel2"):
                ratio = contrast(pal[role], pal[ground])
                assert ratio >= AA_NORMAL, (name, role, ground, round(ratio, 2))


def test_swapped_status_text_passes_aa_on_its_panel():
    for name, swaps in theme.TEXT_SWAP.items():
        for new in swaps.values():
            assert contrast(new, theme.PALETTES[name]["panel"]) >= AA_NORMAL, (name, new)


def test_print_is_light_whatever_the_screen():
    css = theme.theme_css("dark")
    screen, printed = css.split("@media print", 1)
    assert theme.PALETTES["dark"]["panel"] in screen and theme.PALETTES["light"]["panel"] in printed


def test_chart_toolbar_is_only_the_png_download():
    cfg = chart_config("一网通办率_杭州市_2024-06", topojsonURL="app/static/topojson/")
    assert cfg["displayModeBar"] is True and cfg["displaylogo"] is False
    assert cfg["modeBarButtons"] == [["toImage"]]
    assert cfg["toImageButtonOptions"] == {"format": "png", "filename": "一网通办率_杭州市_2024-06", "scale": 2}
    assert cfg["topojsonURL"] == "app/static/topojson/"


def test_chart_name_is_a_safe_file_name():
    assert chart_name("一网通办率（事项）", "杭州市", "2024-06") == "一网通办率（事项）_杭州市_2024-06"
    assert chart_name("a/b: c", None, "", "x?y") == "a-b-c_x-y"
    assert chart_name() == "chart"


def test_light_charts_swap_text_and_grid_but_not_series_or_maps():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1, 2], line=dict(color="#38bdf8")))
    fig.update_layout(font=dict(color="#cbd5e1"))
    fig.update_xaxes(gridcolor="#1e3a5f")
    assert themed(fig, "dark") is fig
    light = themed(fig, "light")
    assert light["layout"]["font"]["color"] == "#334155" and light["layout"]["xaxis"]["gridcolor"] == "#d5dde8"
    assert light["data"][0]["line"]["color"] == "#38bdf8"
    geo = go.Figure(go.Choropleth(locations=["a"], z=[1], geojson={"type": "FeatureCollection", "features": []}))
    geo.update_layout(font=dict(color="#cbd5e1"))
    assert themed(geo, "light") is geo
