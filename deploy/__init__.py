"""Production layout: nginx in front of N Streamlit replicas, one scheduler, PostgreSQL (see README).

`python -m deploy.layout up|down|status`, `python -m deploy.health`. The JSON log format shared by
the app replicas and the scheduler is the `applog` package.
"""
