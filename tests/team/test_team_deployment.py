"""The team path, end to end: PostgreSQL-backed Prefect server, process work pool, `prefect deploy --all` from
prefect.yaml, two workers, two `daily` runs triggered at once through the API.

Both runs must reach Completed; the writer slot (flows/concurrency.py, the `jevons-warehouse` global
concurrency limit) makes one wait for the other instead of failing on the file lock; afterwards the shared
warehouse holds every key exactly once and its core and marts tables equal, row for row, those of one
uninterrupted `jevons run` on the same files. Everything is bounded in time; the workers are stopped by a
finalizer (the server and the cluster by the session fixtures in conftest.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.concurrency import warehouse_writer_slot
from tests.team.conftest import stop_process
from tests.test_crash_safety import integrity_problems, snapshot

pytestmark = [pytest.mark.team, pytest.mark.needs_shared]
PROJECT = Path(__file__).resolve().parents[2]
POOL = "jevons-process"
RUN_TIMEOUT_S = 600.0


def _env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JEVONS_", "EIA_API_KEY", "PREFECT_"))}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        PREFECT_API_URL=url,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_WORKER_PREFETCH_SECONDS="2",
        JEVONS_HOME=str(PROJECT),  # prefect.yaml's pull step: the workers' working directory
        PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _prefect(env: dict[str, str], *args: str, timeout_s: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture()
def workers(team_server: tuple[str, Path], tmp_path: Path) -> Iterator[dict[str, str]]:
    url, _ = team_server
    env = _env(url, tmp_path / "prefect-client")
    _prefect(env, "work-pool", "create", POOL, "--type", "process", "--overwrite")
    _prefect(env, "--no-prompt", "deploy", "--all")
    procs = []
    logs = []
    try:
        for name in ("team-worker-1", "team-worker-2"):
            log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed in the finalizer)
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "prefect",
                        "worker",
                        "start",
                        "--pool",
                        POOL,
                        "--name",
                        name,
                        "--limit",
                        "1",
                    ],
                    env=env,
                    cwd=PROJECT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield env
    finally:
        for proc in procs:
            stop_process(proc)
        for log in logs:
            log.close()


def _messages(client: Any, flow_run_id: Any) -> list[tuple[float, str]]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [(log.timestamp.timestamp(), log.message) for log in logs]


def _trigger_two_and_wait(url: str, parameters: dict[str, object]) -> list[object]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        # The test holds the writer slot until both runs ask for it, so they contend whatever the workers' start-up
        # latency: then one gets it and the other must wait for that one's release.
        hold = warehouse_writer_slot()
        hold.__enter__()
        try:
            runs = [run_deployment("daily/daily", parameters=parameters, timeout=0) for _ in range(2)]
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while not all(any("asking for the" in m for _, m in _messages(client, r.id)) for r in runs):
                if time.monotonic() > deadline:
                    pytest.fail("the runs never asked for the writer slot")
                time.sleep(1)
        finally:
            hold.__exit__(None, None, None)
        while True:
            states = [client.read_flow_run(r.id).state for r in runs]  # type: ignore[attr-defined]
            if all(s is not None and s.is_final() for s in states):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"runs not finished within {RUN_TIMEOUT_S:.0f} s: {[s and s.name for s in states]}")
            time.sleep(2)
        # A worker ships a run's logs in batches (every couple of seconds), so the last lines can reach the API
        # after the run's final state: wait (bounded) until each run's release line has arrived.
        log_deadline = time.monotonic() + 60
        while True:
            messages = [_messages(client, r.id) for r in runs]  # type: ignore[attr-defined]
            released = [any(m.startswith("releasing the 'jevons-warehouse'") for _, m in ms) for ms in messages]
            if all(released) or time.monotonic() > log_deadline:
                break
            time.sleep(1)
    return [(s.name if s else None, m) for s, m in zip(states, messages, strict=True)]


def _slot_times(messages: list[tuple[float, str]]) -> tuple[float, float, float]:
    """(held at, seconds waited, released at) from one run's writer-slot log lines."""
    held = [(t, m) for t, m in messages if "writer slot after waiting" in m]
    released = [t for t, m in messages if m.startswith("releasing the 'jevons-warehouse' writer slot")]
    assert len(held) == 1 and len(released) == 1, messages
    waited_s = float(re.search(r"after waiting ([0-9.]+) s", held[0][1]).group(1))  # type: ignore[union-attr]
    return held[0][0], waited_s, released[0]


def test_two_runs_at_once_on_two_workers_queue_on_the_limit(
    team_server: tuple[str, Path], workers: dict[str, str], tmp_path: Path, real_prices_dir: Path
) -> None:
    url, _ = team_server
    reference = tmp_path / "reference.duckdb"
    argv = ["run", "--prices-from", str(real_prices_dir), "--no-report", "--warehouse", str(reference)]
    single = subprocess.run(
        [sys.executable, "-m", "flows.cli", *argv],
        env=workers,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert single.returncode == 0, single.stderr[-3000:]

    shared = tmp_path / f"shared-{uuid.uuid4().hex[:6]}" / "jevons.duckdb"
    t0 = time.monotonic()
    outcomes = _trigger_two_and_wait(
        url, {"prices_from": str(real_prices_dir), "warehouse": str(shared), "report": False}
    )
    elapsed = time.monotonic() - t0
    names = [name for name, _ in outcomes]
    assert names == ["Completed", "Completed"], outcomes
    # Each run logs when it holds the slot (and how long it waited) and when it releases it: the holds must not
    # overlap, and the second holder must have asked before the first released (it waited on the limit).
    slots = sorted(_slot_times(messages) for _, messages in outcomes)  # type: ignore[arg-type]
    (_, _, first_released), (second_held, second_waited_s, _) = slots
    assert second_held >= first_released, slots
    assert second_held - second_waited_s < first_released, slots
    waited = [round(s[1], 1) for s in slots]

    assert integrity_problems(shared) == []
    assert snapshot(shared) == snapshot(reference)
    con = duckdb.connect(str(shared), read_only=True)
    try:
        statuses = con.sql("SELECT status FROM ops.runs ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert len(statuses) == 2 and all(s.startswith("completed") for (s,) in statuses), statuses
    print(f"two runs on two workers in {elapsed:.1f} s; waited on the limit: {waited}")
