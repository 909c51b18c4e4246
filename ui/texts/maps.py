"""Strings of the maps pages (keys prefixed `maps_`)."""

ZH: dict[str, str] = {}

EN: dict[str, str] = {}
