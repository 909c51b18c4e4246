"""批示督办: instructions on a figure and their follow-up to a closed loop (no Streamlit)."""
