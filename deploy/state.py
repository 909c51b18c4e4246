"""Where the production layout records what it started (var/deploy/layout.json), and its loopback address.

Its own module because both the layout (writes it) and the health check (reads it to find the
proxy and the replicas) need it, and the layout runs the health check: neither imports the other's
module for it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from store.db import ROOT

LOOPBACK = "127.0.0.1"


@dataclass
class Part:
    """One process of the layout as recorded in layout.json."""

    name: str
    kind: str  # replica | scheduler | nginx
    pid: int
    log: str
    port: int | None = None
    marker: str = ""  # a string its /proc cmdline must contain (when no start time was recorded)
    start_ticks: int = 0  # /proc/<pid>/stat start time: a recycled pid has another one


@dataclass
class State:
    database_url: str
    proxy_port: int
    parts: list[Part] = field(default_factory=list)
    started_at: str = ""
    state_dir: str = ""

    def replicas(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "replica"]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> State | None:
        if not path.is_file():
            return None
        d = json.loads(path.read_text())
        return cls(d["database_url"], d["proxy_port"], [Part(**p) for p in d["parts"]], d.get("started_at", ""),
                   d.get("state_dir", ""))


def state_dir() -> Path:
    return Path(os.environ.get("COCKPIT_DEPLOY_DIR") or ROOT / "var" / "deploy")


def state_file(base: Path | None = None) -> Path:
    return (base or state_dir()) / "layout.json"
