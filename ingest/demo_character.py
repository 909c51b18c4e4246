"""The county character table the demo draws from (an estimate; see data/regions/county_character.md).

Its own module because both the figures (ingest.demo) and the app registers (ingest.demo_apps) read
it, and the figures use the registers' list of applicable apps: each imports this, not the other.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

CHARACTER_PATH = Path(__file__).resolve().parent.parent / "data" / "regions" / "county_character.csv"


@lru_cache(maxsize=2)
def character(path: Path = CHARACTER_PATH) -> pd.DataFrame:
    """The county character table, indexed by county code."""
    return pd.read_csv(path, dtype={"code": str}).set_index("code")
