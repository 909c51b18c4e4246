"""Structured logs: one JSON object per line on stdout, for the app replicas and the scheduler alike.

A package of its own below the app, the scheduler and deploy, which all import it (none of them
imports another just to log).

A production host collects stdout (journald, a container runtime, the layout script's log files)
and a log shipper parses each line; one format for every process means one parser. The scheduler
logs JSON unless `COCKPIT_LOG_FORMAT=text`; the app replicas switch to JSON with
`COCKPIT_LOG_FORMAT=json` (set by the production layout and cockpit.env.example), so a developer's
`./cockpit run` and the in-process test runs keep Streamlit's own console format.

Streamlit gives each of its loggers its own stderr handler and turns propagation off
(`streamlit.logger.get_logger`), so a root handler alone would miss them: `setup_streamlit()`
swaps those handlers and wraps Streamlit's `setup_formatter`, so loggers created later get the JSON
handler too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator

RENDER_LOGGER = "cockpit.render"
_HANDLER_ATTR = "_cockpit_json_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a message that is itself JSON is embedded as an object."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        try:
            body = json.loads(msg) if msg.startswith("{") else msg
        except ValueError:
            body = msg
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
               "logger": record.name, "pid": record.process, "msg": body}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def json_enabled(default: str = "json") -> bool:
    """COCKPIT_LOG_FORMAT (json | text), else `default`."""
    return (os.environ.get("COCKPIT_LOG_FORMAT", "").strip().lower() or default) == "json"


def stdout_handler(json_lines: bool = True) -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    return handler


def setup_process(level: int = logging.INFO) -> None:
    """Root logger -> stdout, JSON by default: for plain processes such as the scheduler."""
    logging.basicConfig(level=level, handlers=[stdout_handler(json_enabled("json"))], force=True)


def _swap_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    old = getattr(logger, "streamlit_console_handler", None)
    if old is not None and old is not handler:
        logger.removeHandler(old)
    if handler not in logger.handlers:
        logger.addHandler(handler)
    logger.streamlit_console_handler = handler  # type: ignore[attr-defined]  # what Streamlit removes next time


def setup_streamlit() -> None:
    """Inside a Streamlit server: every Streamlit logger and the root logger write JSON to stdout.

    Called on every script run (app.py); it acts once per process and only with
    COCKPIT_LOG_FORMAT=json. Other root handlers (a test runner's) are left in place.
    """
    root = logging.getLogger()
    if getattr(root, _HANDLER_ATTR, None) is not None or not json_enabled("text"):
        return
    handler = stdout_handler()
    setattr(root, _HANDLER_ATTR, handler)
    root.addHandler(handler)
    logging.captureWarnings(True)  # Python warnings become log records, not plain stderr text
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        from streamlit import logger as st_logger
    except ImportError:  # not inside Streamlit
        return
    loggers = getattr(st_logger, "_loggers", {})
    for lg in list(loggers.values()):
        _swap_handler(lg, handler)
    original = getattr(st_logger, "setup_formatter", None)
    if original is not None and not getattr(original, "_cockpit", False):
        def setup_formatter(logger: logging.Logger) -> None:
            _swap_handler(logger, handler)

        setup_formatter._cockpit = True  # type: ignore[attr-defined]
        st_logger.setup_formatter = setup_formatter


@contextlib.contextmanager
def page_render(page: str, role: str | None) -> Iterator[None]:
    """Log one `page_render` event per script run: page, role, duration, outcome.

    Streamlit ends runs early with control-flow exceptions (st.stop, st.rerun, switch_page): those
    are logged as `stopped`/`rerun` and re-raised untouched.
    """
    t0 = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as exc:
        name = type(exc).__name__
        outcome = "stopped" if name == "StopException" else "rerun" if "Rerun" in name else "error"
        raise
    finally:
        logging.getLogger(RENDER_LOGGER).info(json.dumps({
            "event": "page_render", "page": page or "overview", "role": role, "outcome": outcome,
            "duration_ms": round((time.perf_counter() - t0) * 1000, 1)}))
