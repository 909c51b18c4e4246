"""The cockpit's user interface: shared page components, formatting, i18n, caching and maps.

Pure logic (tiles, alerts, rankings, profiles, formatting) lives in modules without Streamlit so it
can be tested directly; `data`, `shell` and `components` are the Streamlit-facing parts.
"""
