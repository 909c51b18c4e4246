"""Ways figures come in: the demo generator now; county report imports and feeds later.

All of them hand their rows to `store.Store`, never to the tables directly.
"""
