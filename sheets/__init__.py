"""Spreadsheet output: what every CSV and Excel export passes through (formula injection).

Below every layer that exports (the pack, auth's audit export, the app's downloads), so none of them
reaches up into another for it.
"""
