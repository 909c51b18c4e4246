"""Widgets whose value lives in the URL as a stable code (?scope=330100, never a display name).

Streamlit's own `bind="query-params"` stores the *formatted* option in the URL, which would make
links depend on the language; here the URL carries the option itself. Rule: when the URL value
changed since this session last wrote it (a shared link, a page link with parameters, history
navigation) the URL wins; otherwise the widget (session state) wins and is written back, so a
parameter survives navigation through the sidebar. A value equal to the default is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

# the largest id a database integer column holds on every backend (PostgreSQL/MySQL INTEGER)
MAX_ID = 2**31 - 1


def parse_number(raw: object, lo: float, hi: float, integer: bool = False) -> float | int | None:
    """`raw` as a finite number within [lo, hi] (an int when `integer`), or None.

    URL values are anyone's text: "inf", "1e999", "nan", "²" or a 30-digit id must be refused,
    never reach int() or a database query where they overflow.
    """
    text = str(raw).strip() if raw is not None else ""
    if not text or len(text) > 32 or not text.isascii():
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    if v != v or v in (float("inf"), float("-inf")) or not lo <= v <= hi:
        return None
    if integer:
        if not v.is_integer():
            return None
        return int(v)
    return v


def _seed(key: str, options: Sequence[str], default: str) -> None:
    url = st.query_params.get(key)
    last = st.session_state.get(f"_url_{key}")
    if url is not None and url != last and url in options:
        st.session_state[key] = url
    elif st.session_state.get(key) not in options:
        st.session_state[key] = default
    else:  # Streamlit drops a widget's value when another page is shown: keep it for the pages sharing the key
        st.session_state[key] = st.session_state[key]


def write(key: str, value: str, default: str) -> None:
    """Put `value` in the URL (left out when it is the default) and remember it as written by this session."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
        st.session_state[f"_url_{key}"] = None
    else:
        if st.query_params.get(key) != value:
            st.query_params[key] = value
        st.session_state[f"_url_{key}"] = value


def select(
    label: str, options: Sequence[str], key: str, default: str | None = None,
    format_func: Callable[[Any], str] = str, widget: str = "selectbox", **kw: Any,
) -> str:
    """A selectbox (or segmented control) bound to the URL parameter `key`."""
    default = options[0] if default is None else default
    _seed(key, options, default)
    if widget == "segmented":
        value = st.segmented_control(label, list(options), key=key, format_func=format_func,
                                     selection_mode="single", required=True, **kw)
    else:
        value = st.selectbox(label, list(options), key=key, format_func=format_func, **kw)
    value = value if value in options else default
    write(key, value, default)
    return value
