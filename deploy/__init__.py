"""Production layout: nginx in front of N Streamlit replicas, one scheduler, PostgreSQL (see README).

`python -m deploy.layout up|down|status`, `python -m deploy.health`; `deploy.logs` is the JSON
log format shared by the app replicas and the scheduler.
"""
