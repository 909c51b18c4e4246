"""The monthly meeting pack: freezing a period, the deck model, PPTX and PDF export.

No Streamlit here: the app pages, the CLI and the scheduler all call these functions.
"""
