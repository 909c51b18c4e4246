"""Start and stop a Streamlit script on loopback, and launch Debian's Chromium: shared by the
overview benchmark and the browser tests so both drive the app the same way."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's package; never a downloaded browser build
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(script: str, port: int, env: dict[str, str] | None = None, timeout: float = 60.0,
              module: str = "streamlit", args: tuple[str, ...] = ()) -> subprocess.Popen:
    """`streamlit run script` on 127.0.0.1:port; returns once /_stcore/health answers ok.

    `module` runs another launcher with Streamlit's command line (bench.profiled_streamlit); `args` are
    more Streamlit options (e.g. `--secrets.files PATH` for the single sign-on test).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "run", script, "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--server.address", "127.0.0.1", "--server.port", str(port), *args],
        cwd=ROOT, env=os.environ | (env or {}) | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{script} exited: " + proc.stderr.read().decode()[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{script} did not become healthy")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
