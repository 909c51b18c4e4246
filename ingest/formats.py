"""The file formats a report or feed can come in: one list for the upload widget, the feed folder
the scheduler watches and the reader that sniffs a file's kind. A new format is added here (and
read in ingest/reader.py); nothing else lists them. No imports, so the scheduler stays light.
"""

from __future__ import annotations

from typing import Literal, get_args

ImportFormat = Literal["xlsx", "csv"]
IMPORT_FORMATS: tuple[str, ...] = get_args(ImportFormat)  # ("xlsx", "csv"): the upload widget's `type`
IMPORT_SUFFIXES: frozenset[str] = frozenset(f".{f}" for f in IMPORT_FORMATS)  # file names in a feed folder
