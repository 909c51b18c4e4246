"""批示督办 (issue #11 A): instructions on a figure and their follow-up to a closed loop (no Streamlit)."""
