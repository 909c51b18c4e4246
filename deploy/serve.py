"""`python -m deploy.serve [streamlit options]`: one app replica, JSON logs from its first line.

Equivalent to `streamlit run app.py [options]`, except that Streamlit's loggers are switched to
JSON lines on stdout (applog/) before the server starts, so start-up messages are
structured too, and the welcome banner (plain text) is off. The layout script and the systemd
unit start replicas this way.
"""

from __future__ import annotations

import json
import logging
import os
import sys

import applog as logs
from store.db import ROOT


def main(argv: list[str]) -> None:
    os.environ.setdefault("COCKPIT_LOG_FORMAT", "json")
    logs.setup_streamlit()
    logging.getLogger("cockpit.serve").info(json.dumps({"event": "replica_start", "options": argv}))
    from streamlit.web import cli  # after the log set-up, so Streamlit's first messages are JSON too

    sys.argv = ["streamlit", "run", str(ROOT / "server.py"), "--logger.hideWelcomeMessage", "true", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
