"""The tables of 赛马晾晒 on screen: a frame with its colours and formats, and the Styler that shows it.

Also the cells every table shares: the region link (the name rides in the fragment, LINK_TEXT reads it
back), the rank-change colour and the percent scale of rates. No reads; unit-tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd

from metrics.catalogue import Kpi
from ui import fmt

NEW = "#38bdf8"  # 新: entered the ranking this period
LINK_TEXT = r"#n=(.*)$"  # LinkColumn display_text: the region name carried in the link's fragment


def scale(k: Kpi) -> float:
    """Rates are stored as fractions and shown as percent."""
    return 100.0 if k.format == "percent" else 1.0


def region_link(code: str, level: str, name: str, params: dict[str, str], parent: str | None = None) -> str:
    """A relative link to the county profile (a township: its county's profile opened on the township,
    or a city's cockpit view), the name in the fragment."""
    if level == "township" and parent:
        q = {k: v for k, v in params.items() if k != "scope"} | {"county": parent, "township": code}
        page = "county"
    elif level == "county":
        q = {k: v for k, v in params.items() if k != "scope"} | {"county": code}
        page = "county"
    else:
        q = params | {"scope": code}
        page = "overview"
    return f"{page}?{urlencode(q)}#n={quote(name)}"


def change_colour(label: str) -> str:
    """Rank change colour: up green, down red, new sky blue, unchanged grey."""
    if label.startswith("▲"):
        return fmt.GOOD
    if label.startswith("▼"):
        return fmt.BAD
    if label in ("新", "new"):
        return NEW
    return fmt.FLAT


@dataclass
class Shaped:
    """A display frame plus text colours and number formats per column (applied by a pandas Styler).

    Numbers stay numbers (the analyst can sort by them); the Styler only decides how they read,
    and shows a missing value as "—" rather than st.dataframe's "None".
    """

    df: pd.DataFrame
    colours: dict[str, list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


def with_markers(sh: Shaped, labels: list[str], header: str, after: str) -> Shaped:
    """`sh` with a column of ◆ 批示 markers (one label per row, "" for none) after column `after`."""
    if not any(labels):
        return sh
    df = sh.df.copy()
    df.insert(list(df.columns).index(after) + 1, header, labels)
    return Shaped(df, {**sh.colours, header: ["#f59e0b"] * len(df)}, sh.formats)


def styled(sh: Shaped) -> Any:
    """The frame as a pandas Styler: text colours (status, change, tier) and number formats, "—" when missing.

    The columns it formats must not get a `format` in st.column_config (which would take precedence).
    """
    if sh.df.empty:
        return sh.df
    cols = {c: v for c, v in sh.colours.items() if c in sh.df.columns}

    def paint(col: pd.Series) -> list[str]:
        return [f"color: {c}" for c in cols[col.name]]

    sty = sh.df.style.format({c: f for c, f in sh.formats.items() if c in sh.df.columns}, na_rep="—")
    return sty.apply(paint, subset=list(cols)) if cols else sty
