"""`python -m bench.profiled_streamlit run SCRIPT …`: Streamlit with every script run under cProfile.

Used by `bench_pages --profile`. Each run of a page script (the thread that executes app.py and
the page) is profiled on its own and written to $BENCH_PROFILE_DIR/<ns>.prof; the benchmark
attributes the files that appear during a render to the page it rendered. Websocket and protobuf
work on the server's event loop is not in these files (cProfile sees one thread).

The clock: BENCH_PROFILE_CLOCK=cpu (the default) is the thread's CPU time, so waiting for the GIL
or for a core on a busy host is not counted, but each reading is a system call, which inflates
functions called very often (deepcopy, JSON encoding) several times; =wall is cProfile's cheap
default clock, which on a busy host spreads the waits over whatever was running. Read shares with
both in mind; a single long call such as gc.collect is exact with the CPU clock.
"""

from __future__ import annotations

import cProfile
import os
import sys
import time
from pathlib import Path

from streamlit.runtime.scriptrunner import script_runner

OUT = Path(os.environ.get("BENCH_PROFILE_DIR", "var/bench/profiles"))
CPU_CLOCK = os.environ.get("BENCH_PROFILE_CLOCK", "cpu") != "wall"
_run_script = script_runner.ScriptRunner._run_script


def _profiled(self, rerun_data) -> None:  # noqa: ANN001 - Streamlit's private signature
    prof = cProfile.Profile(time.thread_time) if CPU_CLOCK else cProfile.Profile()
    prof.enable()
    try:
        _run_script(self, rerun_data)
    finally:
        prof.disable()
        OUT.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(OUT / f"{time.monotonic_ns()}.prof")


script_runner.ScriptRunner._run_script = _profiled

if __name__ == "__main__":
    from streamlit.web.cli import main

    sys.argv[0] = "streamlit"
    sys.exit(main())
