"""The early temporary Prefect server of `jevons run` (flows/prefect_api.py): used when no API is configured,
left alone when one is, stopped at the end, and a failed start falls back to Prefect's own (never a failed run)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prefect import flow

from flows import prefect_api
from flows.prefect_api import EarlyPrefectAPI, early_prefect_api
from tests.test_run_signals import MARKER, tagged_pids

PROJECT = Path(__file__).resolve().parents[1]


@flow(name="early-api-probe")
def _probe() -> int:
    return 42


def test_a_configured_api_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with early_prefect_api() as api:
        assert api.process is None


def test_ephemeral_off_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
    with early_prefect_api() as api:
        assert api.process is None


def test_flow_runs_on_the_early_server_which_then_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with early_prefect_api() as api:
        process = api.process
        assert process is not None and process.poll() is None
        with api.use():
            assert PREFECT_API_URL.value() == api.api_url
            state = _probe(return_state=True)
            assert state.result() == 42
            run_id = state.state_details.flow_run_id
            assert run_id is not None
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(run_id)
            assert run.state is not None and run.state.is_completed()
            assert run.name  # recorded by the early server, not a local stand-in
    assert process.poll() is not None  # stopped with the block


def test_a_server_that_cannot_start_falls_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL

    def broken(self: EarlyPrefectAPI) -> None:
        self.port = 9
        self.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(EarlyPrefectAPI, "_launch", broken)
    with early_prefect_api() as api, api.use():
        assert PREFECT_API_URL.value() != api.api_url  # Prefect's own ephemeral mode takes over
    assert "temporary Prefect server exited with code 1; Prefect starts its own" in capsys.readouterr().err


def test_a_taken_port_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn exits with 3 when another process took the port first: launch again on a new port."""
    launches: list[int] = []
    real = EarlyPrefectAPI._launch

    def first_loses_the_race(self: EarlyPrefectAPI) -> None:
        launches.append(1)
        if len(launches) == 1:
            self.port = 9
            self.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        else:
            real(self)

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(EarlyPrefectAPI, "_launch", first_loses_the_race)
    with early_prefect_api() as api:
        assert api._healthy(120)
        assert len(launches) == 2 and api.port != 9


def test_jevons_run_alone_leaves_no_server_and_no_lost_logs(tmp_path: Path, real_prices_dir: Path) -> None:
    """The CLI as a user runs it with no Prefect server configured: completes, sends its logs before the
    server stops (no 'Error logging to API'), and leaves no server process behind."""
    env: dict[str, Any] = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "JEVONS_WAREHOUSE")}
    tag = uuid.uuid4().hex  # this run's processes, found by their environment (other suites run servers too)
    env[MARKER] = tag
    wh = tmp_path / "jevons.duckdb"
    args = ["run", "--prices-from", str(real_prices_dir), "--warehouse", str(wh), "--end", "2025-06-30", "--no-report"]
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Error logging to API" not in done.stderr and "Traceback" not in done.stderr
    assert "Finished in state Completed()" in done.stderr
    assert "View at" not in done.stderr  # no link to a UI this temporary server does not serve
    assert tagged_pids(tag) == []
    con = duckdb.connect(str(wh), read_only=True)
    assert con.sql("SELECT status FROM ops.runs").fetchall() == [("completed_with_warnings",)]
    con.close()


def test_module_documents_the_command_it_mirrors() -> None:
    """The server command is Prefect's own: if Prefect changes it, this test points at the place to follow."""
    import inspect

    from prefect.server.api import server

    source = inspect.getsource(server.SubprocessASGIServer._run_uvicorn_command)
    for key in prefect_api.SERVER_ENV:
        assert f'"{key}"' in source
    assert "prefect.server.api.server:create_app" in source and '"--factory"' in source
