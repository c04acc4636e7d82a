"""With no network, `jevons run` fails fast and quietly: one line naming the source and the cause, exit 1.

Each case runs the real CLI as a subprocess through tests/offline_driver.py, which makes every host name but
loopback fail to resolve at the HTTP layer (curl_cffi's DNSError for yfinance, the resolver's gaierror for
requests), so yfinance, the clients, the shared retry policy, the flow's task retries and the console filter
are all the real code. The runs report to one Prefect server (the session's `prefect_server`), so the time
measured is the run's own and the Failed state and the UI log can be read back from the API.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

PROJECT = Path(__file__).resolve().parent.parent
BUDGET_S = 60.0
YAHOO = (
    "error: Yahoo Finance unreachable: host name not resolved (no network or DNS): curl: (6) Could not resolve "
    "host: query2.finance.yahoo.com"
)
EIA = "error: EIA https://api.eia.gov/v2: host name not resolved (no network or DNS); check the network (not retried)"


def _offline_run(tmp_path: Path, api_url: str, args: list[str], **env: str) -> tuple[int, str, str, float]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JEVONS_", "EIA_API_KEY"))}
    environment.update(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        JEVONS_WRITER_LIMIT="off",  # the session's server is shared with other tests: leave its limits alone
        **env,
    )
    argv = [sys.executable, "-m", "tests.offline_driver", "run", "--warehouse", str(tmp_path / "w.duckdb"), *args]
    t0 = time.monotonic()
    done = subprocess.run(argv, env=environment, cwd=PROJECT, capture_output=True, text=True, timeout=240)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - t0


def _failed_run(warehouse: Path) -> tuple[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.sql("SELECT run_id, summary_json FROM ops.runs WHERE status = 'failed'").fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return str(rows[0][0]), str(rows[0][1])


def _prefect_run(api_url: str, run_id: str) -> tuple[Any, list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)  # type: ignore[arg-type]
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    return run.state, [log.message for log in logs]


def _assert_quiet_failure(code: int, out: str, err: str, elapsed_s: float, expected: str) -> None:
    assert code == 1, out + err
    assert elapsed_s < BUDGET_S, f"took {elapsed_s:.1f}s"
    assert "Traceback" not in out + err, out + err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(expected), err


def _assert_recorded(tmp_path: Path, api_url: str, cause: str) -> None:
    run_id, summary = _failed_run(tmp_path / "w.duckdb")
    assert cause in summary
    state, messages = _prefect_run(api_url, run_id)
    assert state.is_failed() and cause in (state.message or "")
    assert any(cause in m for m in messages), messages  # the run's log in the UI names the cause
    assert not any("Traceback" in m for m in messages)


def test_yahoo_offline_fails_fast_and_quietly(tmp_path: Path, prefect_server: str) -> None:
    code, out, err, elapsed_s = _offline_run(tmp_path, prefect_server, ["--no-report"])
    _assert_quiet_failure(code, out, err, elapsed_s, YAHOO)
    assert "not retried" in err
    _assert_recorded(tmp_path, prefect_server, "Yahoo Finance unreachable: host name not resolved")


def test_jevons_debug_still_shows_the_traceback(tmp_path: Path, prefect_server: str) -> None:
    code, out, err, _ = _offline_run(tmp_path, prefect_server, ["--no-report"], JEVONS_DEBUG="1")
    assert code == 1 and "Traceback" in out + err and "Yahoo Finance unreachable" in out + err


def test_eia_offline_fails_fast_and_quietly(tmp_path: Path, prefect_server: str, real_prices_dir: Path) -> None:
    args = ["--prices-from", str(real_prices_dir), "--require-electricity", "--no-report"]
    code, out, err, elapsed_s = _offline_run(tmp_path, prefect_server, args, EIA_API_KEY="offline-test-key")
    _assert_quiet_failure(code, out, err, elapsed_s, EIA)
    assert "offline-test-key" not in out + err
    _assert_recorded(tmp_path, prefect_server, "EIA https://api.eia.gov/v2: host name not resolved")


def test_eia_offline_without_require_is_a_warning() -> None:
    """Not required, an unreachable EIA skips the stage with one `eia_unreachable` warning (not one per route)."""
    import requests

    from flows.sources.eia.client import EiaClient
    from flows.sources.eia.plan import read_last_loaded
    from flows.sources.eia.source import extract_electricity

    class Offline(requests.Session):
        calls = 0

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            Offline.calls += 1
            raise requests.ConnectionError(
                "HTTPSConnectionPool(host='api.eia.gov', port=443): Max retries exceeded with url: /v2 (Caused by "
                "NameResolutionError(\"Failed to resolve 'api.eia.gov' ([Errno -2] Name or service not known)\"))"
            )

    slept: list[float] = []
    result = extract_electricity(
        read_last_loaded(None),
        require=False,
        api_key="k",
        client_factory=lambda key: EiaClient(key, session=Offline(), sleep=slept.append),
    )
    assert [w.code for w in result.warnings] == ["eia_unreachable"] and result.frames == {}
    assert Offline.calls == 1 and slept == []  # the first request decides: no retry, no other route tried
