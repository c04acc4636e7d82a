"""Scheduling and the Prefect UI, for real: `jevons serve` registers the deployments with their cron schedule
on a loopback `prefect server start`; triggering `daily` through the API runs the flow to Completed, writes the
artifacts; headless Chromium then shows the schedule on the deployment page and `event-impact` on the
Artifacts page."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(
    prefect_server: str, real_prices_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    """`jevons serve` running against the loopback server, and the triggered daily run's outcome."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path_factory.mktemp("served") / "jevons.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "JEVONS_WAREHOUSE"}
    env["PREFECT_API_URL"] = prefect_server
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "serve",
                "--prices-from",
                str(real_prices_dir),
                "--warehouse",
                str(wh),
                "--cron",
                "30 6 * * *",
                "--timezone",
                "America/New_York",
            ],
            env=env,
            cwd=PROJECT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with temporary_settings({PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
            deadline = time.monotonic() + 120
            found: dict[str, Any] = {}
            while len(found) < 2:  # serve registers the two deployments one after the other
                for name in ("daily/daily", "backfill/backfill"):
                    try:
                        found[name] = client.read_deployment_by_name(name)
                    except Exception:
                        if proc.poll() is not None or time.monotonic() > deadline:
                            raise AssertionError(f"serve did not register {name}: {log.read_text()[-3000:]}") from None
                        time.sleep(1)
            deployment, backfill = found["daily/daily"], found["backfill/backfill"]
            flow_run = run_deployment("daily/daily", timeout=300)
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["event-impact", "run-summary", "group-impact"])
                )
            )
            yield {
                "deployment": deployment,
                "backfill": backfill,
                "flow_run": flow_run,
                "artifacts": artifacts,
                "warehouse": wh,
                "ui": prefect_server.removesuffix("/api"),
            }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_deployments_registered_with_schedule(served: dict[str, object]) -> None:
    deployment = served["deployment"]
    schedules = [s.schedule for s in deployment.schedules]  # type: ignore[attr-defined]
    assert [(s.cron, s.timezone) for s in schedules] == [("30 6 * * *", "America/New_York")]
    assert served["backfill"].schedules == []  # type: ignore[attr-defined]


def test_triggered_run_completes_with_artifacts(served: dict[str, object]) -> None:
    flow_run = served["flow_run"]
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state  # type: ignore[attr-defined]
    assert flow_run.name.startswith("daily-")  # type: ignore[attr-defined]
    keys = {a.key for a in served["artifacts"]}  # type: ignore[attr-defined]
    assert {"event-impact", "run-summary", "group-impact"} <= keys
    import duckdb

    con = duckdb.connect(str(served["warehouse"]), read_only=True)
    assert con.sql("SELECT count(*) FROM marts.event_impact").fetchall()[0][0] > 1000
    con.close()


def _dom(url: str, tmp_path: Path) -> str:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chrome'}",
            "--virtual-time-budget=25000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    return proc.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs it)")
def test_ui_shows_schedule_and_artifacts(served: dict[str, object], tmp_path: Path) -> None:
    ui = served["ui"]
    deployment_id = served["deployment"].id  # type: ignore[attr-defined]
    page = _dom(f"{ui}/deployments/deployment/{deployment_id}", tmp_path)
    assert "daily" in page
    assert "America/New_York" in page or "6:30" in page or "30 6 * * *" in page, page[-3000:]
    # The Artifacts page renders its cards lazily (a virtual scroller): give it a few tries, then the key's own page.
    pages = []
    for url in (f"{ui}/artifacts", f"{ui}/artifacts", f"{ui}/artifacts/key/event-impact"):
        pages.append(_dom(url, tmp_path))
        if "event-impact" in pages[-1]:
            break
    assert "event-impact" in pages[-1], pages[-1][-3000:]
