"""Ways figures come in: the demo generator, county report imports (Excel/CSV) and daily feeds.

All of them hand their rows to `store.Store`, never to the tables directly. `python -m ingest`
generates templates, imports files (with preview) and rolls batches back.
"""
