"""`python -m metrics`: list, value, demo; clear errors and exit codes, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.bootstrap import create_demo_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.sqlite'}"
    create_demo_database(url, seed=5, today=dt.date(2022, 3, 1))
    return url


def run(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "metrics", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_list_json_has_every_kpi():
    out = run("list", "--json")
    assert out.returncode == 0, out.stderr
    kpis = json.loads(out.stdout)
    assert len(kpis) >= 35 and {"zlb_dau", "online_handling_rate"} <= {k["code"] for k in kpis}


def test_list_text_groups_by_system():
    out = run("list")
    assert out.returncode == 0 and "数字政府" in out.stdout and "online_handling_rate" in out.stdout


@pytest.mark.parametrize("period", ["2022-01-12", "2022-01", "2021-Q4", "2021", "2022-02-YTD"])
def test_value_json_for_every_period_form(demo_url, period):
    out = run("value", "online_handling_rate", "330100", period, "--json", url=demo_url)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    for key in ("value", "numerator", "denominator", "unit", "target", "status", "as_of", "rank"):
        assert key in res
    if period != "2022-01-12":  # a monthly KPI has no daily value
        assert res["value"] == pytest.approx(res["numerator"] / res["denominator"])
        assert res["rank"] is None or 1 <= res["rank"] <= 11


def test_value_for_a_peer_group_by_name(demo_url):
    out = run("value", "mobile_handling_rate", "山区26县", "2021-12", "--json", url=demo_url)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n_expected"] == 26


def test_value_text(demo_url):
    out = run("value", "zlb_dau", "330000", "2022-01", url=demo_url)
    assert out.returncode == 0 and "浙里办日活" in out.stdout and "target" in out.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("value", "no_such_kpi", "330000", "2022-01"), "unknown KPI"),
        (("value", "zlb_dau", "999999", "2022-01"), "unknown region"),
        (("value", "zlb_dau", "330104", "2022-01"), "330102"),
        (("value", "zlb_dau", "330000", "2022-13"), "invalid period"),
        (("value", "zlb_dau", "330000", "last month"), "invalid period"),
    ],
)
def test_bad_questions_exit_2_without_traceback(demo_url, args, message):
    out = run(*args, url=demo_url)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_unreachable_database_exits_3_without_traceback():
    out = run("value", "zlb_dau", "330000", "2022-01", url="postgresql://nobody@127.0.0.1:1/none")
    assert out.returncode == 3 and "database" in out.stderr and "Traceback" not in out.stderr


def test_demo_command_creates_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, COCKPIT_DEMO_TODAY="2021-04-02")
    out = subprocess.run([sys.executable, "-m", "ingest", "demo", "--seed", "9", "--json"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["last_month"] == "2021-03" and stats["observations"] > 10_000
