"""Group tests of fewer than three stocks are kept but never shown as evidence (issue 15 §2, docs/methods.md).

On the real closes (tests/conftest.py), ai_hardware is NVDA + AVGO in the universe but AVGO has no price file,
so every ai_hardware group test has n = 1: the report marks it, the `group-impact` artifact leaves its p empty
with `evidence` = 'no: n=1 < 3', and `jevons impact --tickers CEG,VST` prints the note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import polars as pl
import pytest

from flows.cli import run_cli
from flows.daily import RunSummary, daily
from flows.report import REPORT_FILE
from flows.report.markup import small_group_mark
from flows.run_artifacts import group_impact_rows
from transforms import report_data as rd

EVENT = "deepseek_selloff"
MARK = "not evidence"


def _rows(wh: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def real_run(
    tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path, prefect_server: str
) -> Iterator[tuple[Path, RunSummary, dict[str, Any]]]:
    """The daily flow on the real closes (no report) and this run's artifacts by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path_factory.mktemp("smallgroups") / "jevons.duckdb"
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh), report=False)
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(summary.run_id)]))
            )
    yield wh, summary, {a.key: a for a in artifacts if a.key}


def test_the_mark_follows_the_rule() -> None:
    assert small_group_mark(1) == " (n=1, not evidence)"
    assert small_group_mark(2, True) == " (n=2, not evidence)"
    assert small_group_mark(3) == "" and small_group_mark(None) == ""
    assert small_group_mark(2, False) == ""  # the mart's flag wins over the fallback rule
    # the fallback (no marts.group_impact): the mean CAR over the group's tickers, flagged by n
    impact = pl.DataFrame(
        {
            "event_id": ["e", "e", "e", "f"],
            "group": ["g"] * 4,
            "window_start": [0] * 4,
            "window_end": [1] * 4,
            "car": [0.01, 0.02, 0.03, 0.04],
        }
    )
    flagged = dict(rd.group_caar(impact, "g", (0, 1)).select("event_id", "n_below_min").iter_rows())
    assert flagged == {"e": False, "f": True}


def test_the_mart_flags_ai_hardware(real_run: tuple[Path, RunSummary, dict[str, Any]]) -> None:
    wh = real_run[0]
    rows = _rows(
        wh,
        f"""SELECT DISTINCT n, n_below_min, caar IS NOT NULL, patell_p IS NOT NULL FROM marts.group_impact
            WHERE event_id = '{EVENT}' AND "group" = 'ai_hardware' AND model = 'market'""",
    )
    assert rows == [(1, True, True, True)]  # the numbers are kept
    ((pairs,),) = _rows(
        wh,
        """SELECT count(*) FROM marts.group_impact WHERE event_id = 'tmi_restart_deal' AND model = 'market'
           AND "group" = 'nuclear_uranium' AND n = 2 AND n_below_min AND kp_bmp_p IS NOT NULL""",
    )
    assert pairs > 0  # a group of two has every test, formally
    # the real power group never falls below three tickers (earliest event 2024-03-04, after CEG and TLN)
    ((low,),) = _rows(wh, "SELECT min(power_n_tickers) FROM marts.jevons_check WHERE power_n_tickers > 0")
    assert low >= 3
    assert not _rows(wh, f"SELECT event_id FROM marts.jevons_check WHERE verdict LIKE '%{MARK}%'")


def test_the_report_marks_the_small_group(real_run: tuple[Path, RunSummary, dict[str, Any]], tmp_path: Path) -> None:
    wh = real_run[0]
    cmd = ["report", "--warehouse", str(wh), "--out", str(tmp_path), "--event", EVENT, "--event", "tmi_restart_deal"]
    assert run_cli(cmd) == 0
    html = (tmp_path / REPORT_FILE).read_text(encoding="utf-8")
    tmi = html.split("id='event-tmi_restart_deal'", 1)[1].split("<h2", 1)[0]
    assert "<code>nuclear_uranium</code> (n=2, not evidence)" in tmi
    section = html.split(f"id='event-{EVENT}'", 1)[1].split("<h2", 1)[0]
    assert "<code>ai_hardware</code> (n=1, not evidence)" in section
    assert "group tests are not evidence" in section
    # the power group has four tickers: its headline and timeline figures carry no mark
    head = html.split("id='headline-section'", 1)[1].split("<h2", 1)[0]
    assert "%" in head and MARK not in head
    # outside the per-ticker day-0 tables (a stock's own test) and the shock candidates (a time-series z over the
    # portfolio's own estimation window, not a cross-sectional test), no row shows an ai_hardware group figure
    tables = re.sub(r'<table id="(day0-[^"]*|shock-candidates)">.*?</table>', "", html, flags=re.S)
    assert "ai_hardware</td>" not in tables


def test_the_artifact_omits_the_small_group_test(real_run: tuple[Path, RunSummary, dict[str, Any]]) -> None:
    wh, _, artifacts = real_run
    data = artifacts["group-impact"].data
    published = json.loads(data) if isinstance(data, str) else data
    assert published and all("evidence" in r for r in published)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = group_impact_rows(con)
    finally:
        con.close()
    small = [r for r in rows if r["group"] == "ai_hardware"]
    large = [r for r in rows if r["group"] == "independent_power"]
    assert small and large
    assert all(r["evidence"] == "no: n=1 < 3" and r["recommended_p"] is None for r in small)
    assert all(r["caar"] is not None for r in small)  # the number is kept
    assert all(r["evidence"] == "yes" and r["recommended_p"] is not None for r in large)
    shown = [r for r in published if r["group"] == "ai_hardware"]
    assert shown and all(r["evidence"] == "no: n=1 < 3" and r["recommended_p"] is None for r in shown)


@pytest.mark.parametrize("with_flag", [True, False])
def test_the_artifact_drops_the_p_of_a_pair(with_flag: bool) -> None:
    """A group of two has a p-value in the mart; the artifact leaves it empty (old warehouses: by n)."""
    con = duckdb.connect()
    flag = ", n_below_min BOOLEAN" if with_flag else ""
    con.execute("CREATE SCHEMA marts")
    con.execute(
        'CREATE TABLE marts.group_impact (event_id VARCHAR, "group" VARCHAR, model VARCHAR, window_start INT, '
        f"window_end INT, n INT, caar DOUBLE, median_car DOUBLE, kp_bmp_p DOUBLE{flag})"
    )
    values = (
        "('e', 'pair', 'market', 0, 0, 2, -0.1, -0.1, 0.001{}), ('e', 'four', 'market', 0, 0, 4, -0.05, -0.04, 0.02{})"
    )
    con.execute(
        f"INSERT INTO marts.group_impact VALUES {values.format(*((', true', ', false') if with_flag else ('', '')))}"
    )
    con.execute("CREATE TABLE marts.event_impact AS SELECT 'e' AS event_id, DATE '2025-01-27' AS day0")
    rows = {r["group"]: r for r in group_impact_rows(con)}
    assert rows["pair"]["evidence"] == "no: n=2 < 3" and rows["pair"]["recommended_p"] is None
    assert rows["pair"]["caar"] == -0.1
    assert rows["four"]["evidence"] == "yes" and rows["four"]["recommended_p"] == 0.02


def test_jevons_impact_notes_a_two_ticker_portfolio(
    real_run: tuple[Path, RunSummary, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    wh = str(real_run[0])
    assert run_cli(["impact", "--event", EVENT, "--tickers", "CEG,VST", "--warehouse", wh]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "n=2 ticker(s) with results: group tests with N < 3 are not evidence" in out
    assert run_cli(["impact", "--event", EVENT, "--tickers", "CEG,VST,NRG", "--warehouse", wh]) == 0
    assert MARK not in capsys.readouterr().out
