"""The 赛马晾晒 pages' pickers: population labels and defaults, and URL-bound multi-selects and number inputs.

URL-bound as ui.urlstate binds its widgets: the URL wins when it changed since this session wrote it,
so a shared link reproduces the selection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from metrics.geography import PROVINCE, Geography
from metrics.rankings import Population
from ui import auth, data, refusals, urlstate
from ui.html import md
from ui.i18n import t


def population_label(spec: str, geo: Geography, lang: str, on: dt.date) -> str:
    """The picker's label, with the head count so a reader knows the size of the race."""
    pop = Population.parse(spec, geo)
    if pop.kind == "counties":
        return counties_label(geo, lang)
    if pop.kind == "cities":
        return t("rankings_pop_cities", lang, n=len(geo.cities))
    if pop.kind == "townships":  # the count depends on the reader's scope: the caption gives it
        return t("rankings_pop_townships", lang)
    code = pop.code or ""
    if pop.kind == "city":
        return t("rankings_pop_city", lang, city=geo.get(code).name(lang), n=len(geo.counties_of(code)))
    return t("rankings_pop_group", lang, group=geo.get(code).name(lang), n=len(geo.members(code, on)))


def counties_label(geo: Geography, lang: str) -> str:
    """"All counties" as the signed-in reader gets them: frames come back filtered to the scope, so for a
    city leader the population plotted is their city's counties ("丽水市所辖9个县"), not the province's 90."""
    if data.scope_code() in (None, PROVINCE):  # the province (or no session: a label formatted after the run)
        return t("rankings_pop_counties", lang, n=len(geo.counties))
    read = data.reader()
    mine = read.counties()
    code = read.scope.code or ""
    if code in geo.cities:
        return t("rankings_pop_city", lang, city=geo.get(code).name(lang), n=len(mine))
    return ("、" if lang == "zh" else ", ").join(geo.get(c).name(lang) for c in mine)


def population_short(spec: str, geo: Geography, lang: str) -> str:
    """A short name for chart legends ("全省", "杭州市", "山区26县")."""
    pop = Population.parse(spec, geo)
    return t("province_scope", lang) if pop.code is None else geo.get(pop.code).name(lang)


def default_population(scope: str) -> str:
    """A city leader's page opens on their own counties."""
    return "counties" if scope == PROVINCE else f"city:{scope}"


def population_counties(spec: str, geo: Geography, on: dt.date) -> list[str]:
    """The counties of a county population (peer groups by their membership on `on`)."""
    pop = Population.parse(spec, geo)
    if pop.kind == "city":
        return geo.counties_of(pop.code or "")
    if pop.kind == "group":
        return geo.members(pop.code or "", on)
    return geo.counties


def parse_codes(raw: str | None, options: Sequence[str], expand: Callable[[str], list[str]] | None = None) -> list[str]:
    """Comma-separated codes from the URL; unknown codes dropped, a group or city expanded by `expand`."""
    if not raw:
        return []
    out: list[str] = []
    for item in (x.strip() for x in raw.split(",")):
        if item in options:
            out.append(item)
        elif item and expand is not None:
            out += [x for x in expand(item) if x in options]
    return list(dict.fromkeys(out))


def multi_select(
    label: str, options: Sequence[str], key: str, default: Sequence[str], format_func: Callable[[Any], str] = str,
    expand: Callable[[str], list[str]] | None = None, **kw: Any,
) -> list[str]:
    """A multiselect bound to the URL parameter `key` as comma-separated codes (ui.urlstate's rule:
    the URL wins when it changed since this session wrote it; a value equal to the default is left out)."""
    raw = st.query_params.get(key)
    last = st.session_state.get(f"_url_{key}")
    if raw is not None and raw != last:
        st.session_state[key] = parse_codes(raw, options, expand)
    elif not isinstance(st.session_state.get(key), list):
        st.session_state[key] = [x for x in default if x in options]
    else:
        st.session_state[key] = [x for x in st.session_state[key] if x in options]
    kw.setdefault("select_all", False)  # Streamlit's "Select all" entry is English only
    value = st.multiselect(label, list(options), key=key, format_func=format_func, **kw)
    urlstate.write(key, ",".join(value), ",".join(x for x in default if x in options))
    return list(value)


def number_param(label: str, key: str, min_value: float = 0, step: float = 1, integer: bool = True,
                 max_value: float = 1_000_000, **kw: Any) -> float | int | None:
    """An optional number input bound to the URL parameter `key` (blank = as configured, left out).

    A URL value that is not a number within [min_value, max_value] is refused with a message and
    left out (never an exception: `inf` or `1e999` must not reach int())."""
    raw = st.query_params.get(key)
    last = st.session_state.get(f"_url_{key}")
    if raw is not None and raw != last:
        v = urlstate.parse_number(raw, min_value, max_value, integer)
        if v is None:
            lang = "en" if st.session_state.get("lang") == "en" else "zh"
            lo = f"{min_value:,.0f}" if float(min_value).is_integer() else f"{min_value:g}"
            st.warning(t("param_refused", lang, name=key, value=md(str(raw)[:40]), lo=lo, hi=f"{max_value:,.0f}"),
                       icon=":material/block:")
            del st.query_params[key]

            refusals.deny(auth.current_quiet(), f"{key}={str(raw)[:40]}", "number parameter out of range")
        st.session_state[key] = v
    elif key not in st.session_state:
        st.session_state[key] = None
    if integer:
        value = st.number_input(label, min_value=int(min_value), max_value=int(max_value), step=int(step), key=key,
                                format="%d", **kw)
    else:
        value = st.number_input(label, min_value=float(min_value), max_value=float(max_value), step=float(step),
                                key=key, **kw)
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
        st.session_state[f"_url_{key}"] = None
    else:
        s = str(int(value)) if integer else f"{value:g}"
        if st.query_params.get(key) != s:
            st.query_params[key] = s
        st.session_state[f"_url_{key}"] = s
    return value
