"""Issue 15 wired through the daily flow on the real closes: history_from before the event study and the detector,
marts.shock_candidates and marts.event_overlaps, the company_change check, the `shock-candidates` artifact,
`jevons shocks`, and the report's "Shocks not in the catalog" section with its confounded-window markers.

One flow run with the shipped catalog (report and artifacts on a real Prefect server) and one with the events
that cover DeepSeek Monday and the Three Mile Island deal removed (the detector must rediscover both days).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import polars as pl
import pytest

from flows.cli import run_cli
from flows.daily import RunSummary, daily
from flows.shocks import ARTIFACT_KEY
from tests.test_impact_report import parse
from transforms.shocks import EVENT_CSV_COLUMNS
from warehouse.seeds import EVENTS_CSV

REMOVED = ("deepseek_selloff", "meta_capex_2025", "tmi_restart_deal")
"""The events covering 2025-01-27 (DeepSeek Monday is also meta_capex_2025's day +1) and 2024-09-20."""


def _rows(wh: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def real_run(
    tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path, prefect_server: str
) -> Iterator[tuple[Path, RunSummary, dict[str, Any]]]:
    """The daily flow on the real closes with the shipped catalog, and this run's artifacts by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path_factory.mktemp("shockwire") / "jevons.duckdb"
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh))
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(summary.run_id)]))
            )
    yield wh, summary, {a.key: a for a in artifacts if a.key}


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path, prefect_server: str) -> Path:
    """The daily flow on the real closes with REMOVED taken out of the catalog (no report)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    folder = tmp_path_factory.mktemp("shockwire-pruned")
    events = pl.read_csv(EVENTS_CSV, infer_schema=False).filter(~pl.col("event_id").is_in(REMOVED))
    events.write_csv(folder / "ai_events.csv")
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        daily(
            prices_from=str(real_prices_dir),
            warehouse=str(folder / "jevons.duckdb"),
            events_csv=str(folder / "ai_events.csv"),
            report=False,
        )
    return folder / "jevons.duckdb"


CANDIDATE = 'SELECT z, ar, top_movers FROM marts.shock_candidates WHERE "group" = ? AND "date" = ?'


def test_flow_fills_shock_candidates_without_catalogued_days(real_run: tuple[Path, RunSummary, Any]) -> None:
    wh = real_run[0]
    n, groups = _rows(wh, 'SELECT count(*), count(DISTINCT "group") FROM marts.shock_candidates')[0]
    # every group with prices (the shared closes have no gas tickers), benchmarks excluded, whole histories
    assert n > 50 and groups == 6
    # neither catalogued day is proposed with the catalog in place; an uncatalogued one is
    for day in ("2025-01-27", "2025-01-28", "2024-09-20", "2024-09-23"):
        assert _rows(wh, CANDIDATE, ["independent_power", day]) == [], day
    ((z, _ar, movers),) = _rows(wh, CANDIDATE, ["independent_power", "2024-02-27"])
    assert z == pytest.approx(6.6, abs=0.05) and movers.startswith("CEG +0.16")
    # no candidate on a day some catalogued event covers (day 0 or +1 of the benchmark's calendar)
    covered = _rows(
        wh,
        """SELECT count(*) FROM marts.shock_candidates c JOIN marts.event_overlaps o
           ON o.window_start = 0 AND o.window_end = 0
           JOIN (SELECT date, row_number() OVER (ORDER BY date) AS k FROM core.prices_daily WHERE ticker = 'SPY') d0
             ON d0.date = o.day0
           JOIN (SELECT date, row_number() OVER (ORDER BY date) AS k FROM core.prices_daily WHERE ticker = 'SPY') d
             ON d.k BETWEEN d0.k AND d0.k + 1
           WHERE c.date = d.date""",
    )
    assert covered == [(0,)]


def test_removed_events_are_rediscovered_through_the_flow(pruned_run: Path) -> None:
    """DeepSeek Monday and the TMI deal come back once the events covering them are out of the catalog: both
    deepseek_selloff and meta_capex_2025 (Friday 2025-01-24, whose day +1 is DeepSeek Monday) must go."""
    ((z, ar, movers),) = _rows(pruned_run, CANDIDATE, ["independent_power", "2025-01-27"])
    assert z == pytest.approx(-7.8, abs=0.1) and ar == pytest.approx(-0.193, abs=0.002)
    assert movers.split(";")[0].split()[0] == "VST"
    ((z, _ar, movers),) = _rows(pruned_run, CANDIDATE, ["independent_power", "2024-09-20"])
    assert z == pytest.approx(7.0, abs=0.1) and movers.startswith("CEG +0.22")


def test_event_overlaps_mark_meta_capex(real_run: tuple[Path, RunSummary, Any]) -> None:
    wh = real_run[0]
    rows = dict(
        ((ws, we), (n, c))
        for ws, we, n, c in _rows(
            wh,
            "SELECT window_start, window_end, n_confounders, confounded_by FROM marts.event_overlaps "
            "WHERE event_id = 'meta_capex_2025'",
        )
    )
    assert rows[(0, 0)] == (0, None)
    assert rows[(0, 1)] == (1, "deepseek_selloff")
    assert rows[(-1, 1)] == (1, "deepseek_selloff")  # Thursday 2025-01-23 to Monday: no event on the Thursday
    assert rows[(0, 5)] == (2, "deepseek_selloff, qwen2_5_max")
    # events sharing a day 0 confound each other in every window, day 0 included
    assert _rows(
        wh,
        "SELECT confounded_by FROM marts.event_overlaps WHERE event_id = 'deepseek_v3_1_terminus' "
        "AND window_start = 0 AND window_end = 0",
    ) == [("openai_nvidia_10gw",)]
    ((n_events,),) = _rows(wh, "SELECT count(DISTINCT event_id) FROM marts.event_impact")
    assert _rows(wh, "SELECT count(*) FROM marts.event_overlaps") == [(4 * n_events,)]


def test_oklo_beta_uses_post_merger_days_only(real_run: tuple[Path, RunSummary, Any]) -> None:
    """OKLO's history_from (2024-05-10) keeps the AltC shell and the −53.6% de-SPAC day out of its estimation
    window: the DeepSeek-Monday beta is ≈ 3.01 on the 166 post-merger days (2.51 on the mixed window)."""
    wh = real_run[0]
    ((beta, n_est),) = _rows(
        wh,
        "SELECT beta, n_estimation FROM marts.event_impact WHERE event_id = 'deepseek_selloff' AND ticker = 'OKLO' "
        "AND model = 'market' AND window_start = 0 AND window_end = 0",
    )
    assert beta == pytest.approx(3.0079, abs=1e-3) and n_est == 166
    # the TMI deal (2024-09-20) has fewer than 120 post-merger estimation days: skipped with its reason
    assert _rows(
        wh, "SELECT count(*) FROM marts.event_impact WHERE event_id = 'tmi_restart_deal' AND ticker = 'OKLO'"
    ) == [(0,)]
    assert _rows(
        wh, "SELECT reason_code FROM marts.event_skips WHERE event_id = 'tmi_restart_deal' AND ticker = 'OKLO'"
    ) == [("too_few_estimation_days",)]
    # and with history_from set the company_change check passes (without it, it names OKLO 2024-05-10)
    assert _rows(wh, "SELECT DISTINCT status FROM ops.data_quality WHERE check_name = 'company_change'") == [("pass",)]


def test_shock_candidates_artifact(real_run: tuple[Path, RunSummary, dict[str, Any]]) -> None:
    wh, _summary, artifacts = real_run
    assert ARTIFACT_KEY in artifacts, sorted(artifacts)
    data = artifacts[ARTIFACT_KEY].data
    rows = json.loads(data) if isinstance(data, str) else data
    ((newest,),) = _rows(wh, 'SELECT max("date") FROM marts.shock_candidates')
    assert rows and rows[0]["date"] == str(newest)
    assert {"group", "z", "ar_pct", "top_movers", "prev_event_id"} <= set(rows[0])
    # the other window artifacts say which windows hold another event
    assert "confounded_by" in str(artifacts["event-impact"].data)
    assert "openai_nvidia_10gw" in str(artifacts["group-impact"].data)  # deepseek_v3_1_terminus shares its day 0


def test_jevons_shocks_prints_candidates_and_seed_rows(
    real_run: tuple[Path, RunSummary, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    wh = str(real_run[0])
    args = ["shocks", "--warehouse", wh, "--group", "independent_power", "--since", "2024-01-01"]
    assert run_cli(args) == 0
    out = capsys.readouterr().out
    assert "2024-02-27" in out and "2024-07-17" in out and "2023-" not in out
    seed = next(line for line in out.splitlines() if line.startswith("independent_power_shock_2024_02_27,"))
    ((fields),) = list(csv.reader([seed]))
    assert len(fields) == len(EVENT_CSV_COLUMNS) and fields[1] == "2024-02-27"
    assert fields[2].startswith("<TO FILL") and "z +6.6" in fields[4]
    assert run_cli(["shocks", "--warehouse", wh, "--format", "json", "--since", "2024-01-01"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ((expected,),) = _rows(real_run[0], "SELECT count(*) FROM marts.shock_candidates WHERE date >= '2024-01-01'")
    assert len(rows) == expected and all(r["seed_row"].startswith(f"{r['group']}_shock_") for r in rows)
    assert run_cli(["shocks", "--warehouse", wh, "--format", "csv", "--group", "nuclear_uranium"]) == 0
    frame = pl.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame.height > 10 and set(frame["group"].to_list()) == {"nuclear_uranium"}


def test_jevons_shocks_usage_errors(real_run: tuple[Path, RunSummary, Any], capsys: pytest.CaptureFixture[str]) -> None:
    wh = str(real_run[0])
    assert run_cli(["shocks", "--warehouse", wh, "--group", "power"]) == 2
    err = capsys.readouterr().err
    assert "--group: unknown group 'power'" in err and "independent_power" in err and "benchmarks" not in err
    assert run_cli(["shocks", "--warehouse", wh, "--since", "2024-13-01"]) == 2
    assert "--since: '2024-13-01' is not a date" in capsys.readouterr().err


def test_report_section_and_confounded_marker(real_run: tuple[Path, RunSummary, Any]) -> None:
    wh, summary = real_run[0], real_run[1]
    assert summary.report is not None
    report = Path(summary.report)
    text = report.read_text(encoding="utf-8")
    assert "Shocks not in the catalog" in text and (report.parent / "shocks_z.png").exists()
    tables = parse(report).tables
    ((n,),) = _rows(wh, "SELECT count(*) FROM marts.shock_candidates")
    assert len(tables["shock-candidates"]) == n + 1
    ((caar,),) = _rows(
        wh,
        "SELECT avg(car) FROM marts.event_impact WHERE event_id = 'meta_capex_2025' AND model = 'market' "
        "AND \"group\" = 'independent_power' AND window_start = 0 AND window_end = 1",
    )
    meta = next(r for r in tables["timeline"] if r[1] == "meta_capex_2025")
    assert meta[-1] == f"{caar * 100:+.2f}% (window holds deepseek_selloff)"
    clean = next(r for r in tables["timeline"] if r[1] == "deepseek_selloff")
    assert "window holds" not in clean[-1]


def test_jevons_check_names_confounded_reactions(real_run: tuple[Path, RunSummary, Any]) -> None:
    """The Jevons check's market reaction reads [0,+5]: DeepSeek Monday's holds Qwen2.5-Max (Wednesday
    2025-01-29, day +2), and the verdict says so; a clean window says nothing."""
    wh = real_run[0]
    rows = {
        e: (held, verdict)
        for e, held, verdict in _rows(wh, "SELECT event_id, reaction_confounded_by, verdict FROM marts.jevons_check")
    }
    held, verdict = rows["deepseek_selloff"]
    assert held == "qwen2_5_max" and "; window holds qwen2_5_max)" in verdict
    expected = dict(
        _rows(
            wh,
            "SELECT event_id, confounded_by FROM marts.event_overlaps WHERE window_start = 0 AND window_end = 5",
        )
    )
    for event_id, (held, verdict) in rows.items():
        if verdict.startswith("No stock impact"):
            continue
        assert held == expected.get(event_id), event_id
        assert ("window holds" in verdict) == (held is not None), event_id


def test_jevons_impact_names_confounded_windows(
    real_run: tuple[Path, RunSummary, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    wh = str(real_run[0])
    assert run_cli(["impact", "--warehouse", wh, "--event", "meta_capex_2025", "--tickers", "CEG,VST,TLN"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "[0,+1] holds deepseek_selloff" in out and "[0,+5] holds deepseek_selloff, qwen2_5_max" in out
    assert "[0,+0]" not in out  # day 0 (Friday 2025-01-24) is clean
