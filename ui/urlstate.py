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
