"""Comments say why, not which ticket: a maintainer has no tracker to look a number up in.

Product code, configuration and tests must not point at tracker items or the conversation they came
from; the reason belongs in the comment itself. Documentation and data files are not scanned.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "var", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules"}
SUFFIXES = {".py", ".toml", ".txt", ".ini", ".cfg", ".yaml", ".yml", ".template", ".example", ".service",
            ".timer", ".target", ".mako", ".sh"}
SCRIPTS = {"cockpit", ".ci/run"}  # executable files without a suffix

REFERENCES = [
    (re.compile(r"\bissues?\s*#\s*\d+", re.IGNORECASE), "a tracker number"),
    (re.compile(r"\bticket\s*#?\s*\d+", re.IGNORECASE), "a ticket number"),
    (re.compile(r"\(#\d{1,2}\b"), "a tracker number in parentheses"),  # 1-2 digits: never a hex colour
    (re.compile(r"\bthe issue(?:'s|\s+(?:says|asks|wants|table))\b", re.IGNORECASE), "the tracker item itself"),
]


def scanned_files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if not path.is_file() or SKIP_DIRS & set(rel.parts):
            continue
        if path.suffix in SUFFIXES or rel.as_posix() in SCRIPTS:
            out.append(path)
    return sorted(out)


def references(text: str) -> list[tuple[int, str, str]]:
    """(line number, what, line) for every tracker reference in `text`."""
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        for rx, what in REFERENCES:
            if rx.search(line):
                hits.append((n, what, line.strip()))
    return hits


def test_the_check_finds_tracker_references_and_spares_genuine_uses():
    found = "\n".join([
        "x = 1  # the cache key (issue " + "#9)",
        "# 批示督办 (" + "#11 A): a marker",
        '"""Sign-in (Issue' + ' #4)."""',
        "# as in the issue" + "'s table",
    ])
    assert [n for n, _, _ in references(found)] == [1, 2, 3, 4]
    spared = "\n".join([
        'COLOURS = {"ok": "#22c55e", "grey": "#333"}',
        'style = "color:(#444)"',
        '"followup_created": "Instruction #{id} issued to {owner}"',
        "rep.issues.append(Issue('error', 'no_data'))  # every issue names its cell",
        "# one Streamlit session per browser tab",
    ])
    assert references(spared) == []


def test_no_tracker_references_in_code_configuration_or_tests():
    files = scanned_files()
    assert any(p.name == "app.py" for p in files) and any(p.name == "conftest.py" for p in files)
    bad = [f"{p.relative_to(ROOT)}:{n}: {what}: {line}"
           for p in files for n, what, line in references(p.read_text(encoding="utf-8", errors="replace"))]
    assert not bad, "say the reason, not the ticket:\n" + "\n".join(bad)


def test_test_modules_share_through_conftest_and_helpers_only():
    """Fixtures live in conftest.py and helpers in tests/*_helpers.py or tests/helpers.py: a test
    module importing another one registers that module's fixtures a second time and runs its import
    side effects."""
    bad = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"^\s*(from tests(\.test_\w+)? import .*\btest_\w+|from tests\.test_\w+ import|import tests\.test_)",
                         line):
                bad.append(f"{path.name}:{n}: {line.strip()}")
    assert not bad, bad
