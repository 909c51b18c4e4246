"""The layers hold: no package imports one above it, and no module imports itself back through others.

Every import counts, at module level or inside a function (an import inside a function that only
dodges a cycle is still the cycle). Read from the source with `ast`, nothing is imported.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# lowest first; a package may import its own floor and those below (README, "Architecture")
FLOORS = [
    {"store", "i18n", "applog", "sheets"},
    {"metrics"},
    {"auth"},
    {"followup"},
    {"ingest"},
    {"pack"},
    {"api"},
    {"push"},
    {"scheduler"},
    {"deploy"},
    {"ui", "pages", "app", "server"},
    {"bench"},
]
FLOOR = {pkg: i for i, pkgs in enumerate(FLOORS) for pkg in pkgs}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in FLOOR:
        path = ROOT / pkg
        files = [ROOT / f"{pkg}.py"] if (ROOT / f"{pkg}.py").exists() else sorted(path.rglob("*.py"))
        for f in files:
            if "migrations" in f.parts:
                continue
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = f
    return out


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules `path` imports, as dotted names: `from pkg import mod` is pkg.mod, not pkg."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & known
            found |= subs if len(subs) == len(node.names) else subs | {base}
    return {m for m in found if m in known}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(p, m, known) - {m} for m, p in mods.items()}


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(m, i) for m, deps in graph.items() for i in sorted(deps)
            if FLOOR[i.split(".")[0]] > FLOOR[m.split(".")[0]]]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return found


def test_no_package_imports_upward():
    assert upward(_graph()) == []


def test_no_import_cycles():
    assert cycles(_graph()) == []


def test_the_checks_see_an_upward_import_and_a_cycle(tmp_path, monkeypatch):
    """The checker itself, on a two-file tree: metrics.x imports ui.y inside a function, ui.y imports it back."""
    (tmp_path / "metrics").mkdir()
    (tmp_path / "ui").mkdir()
    (tmp_path / "metrics" / "x.py").write_text("def f():\n    from ui import y\n", encoding="utf-8")
    (tmp_path / "ui" / "y.py").write_text("from metrics import x\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    g = _graph()
    assert upward(g) == [("metrics.x", "ui.y")]
    assert cycles(g) == [["metrics.x", "ui.y", "metrics.x"]]
