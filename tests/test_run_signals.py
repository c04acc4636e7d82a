"""A killed or stopped `jevons run` leaves no process behind, the warehouse as it was, and a next run that works.

Each case runs the real CLI as a subprocess on its own temporary Prefect server (the early server of
flows/prefect_api.py, a child of the run) with a tmp copy of four real price files, then SIGKILLs or SIGTERMs
it at a moment picked from the reference run's duration (while the server starts, in the flow, near the
end). Every process that inherited the case's marker environment variable (the run and its server) is
found by scanning /proc, so a server reparented to PID 1 is found too; none may be left after 10 s. After a
SIGTERM the run must have exited within 10 s of the signal, with code 143 or 0 (finished first), removed its
staging copy and, when it was stopped, recorded itself failed in ops.runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from tests.test_crash_safety import integrity_problems, snapshot

PROJECT = Path(__file__).resolve().parent.parent
TICKERS = ("CEG", "VST", "SPY", "XLU")
MARKER = "JEVONS_SIGNAL_TEST"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scans /proc")


def tagged_pids(tag: str) -> list[int]:
    """PIDs of live processes whose environment holds MARKER=tag (zombies excluded)."""
    needle = f"{MARKER}={tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def _wait_gone(tag: str, timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (left := tagged_pids(tag)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture()
def setting(tmp_path: Path, real_prices_dir: Path) -> tuple[dict[str, str], list[str], Path]:
    prices = tmp_path / "prices"
    prices.mkdir()
    for ticker in TICKERS:
        shutil.copy(real_prices_dir / f"{ticker}.csv", prices / f"{ticker}.csv")
    wh = tmp_path / "w.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "JEVONS_WAREHOUSE"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    argv = [sys.executable, "-m", "flows.cli", "run", "--prices-from", str(prices), "--warehouse", str(wh)]
    return env, [*argv, "--no-report"], wh


def _run(env: dict[str, str], argv: list[str]) -> tuple[subprocess.Popen[str], str]:
    tag = uuid.uuid4().hex
    proc = subprocess.Popen(
        argv, env={**env, MARKER: tag}, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, tag


def _failed_runs(wh: Path) -> list[str]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return [r[0] for r in con.sql("SELECT summary_json FROM ops.runs WHERE status = 'failed'").fetchall()]
    finally:
        con.close()


def test_kill_and_term_at_several_moments(setting: tuple[dict[str, str], list[str], Path]) -> None:
    env, argv, wh = setting
    for _ in range(2):  # the first run creates the warehouse and Prefect's database; the second is the timing
        t0 = time.monotonic()
        proc, tag = _run(env, argv)
        _, err = proc.communicate(timeout=300)
        duration = time.monotonic() - t0
        assert proc.returncode == 0, err
        assert _wait_gone(tag, 10) == []
    published = snapshot(wh)
    outcomes: list[str] = []
    for sig, fraction in [
        (signal.SIGKILL, 0.1),
        (signal.SIGKILL, 0.5),
        (signal.SIGTERM, 0.1),
        (signal.SIGTERM, 0.5),
        (signal.SIGTERM, 0.8),
    ]:
        failed_before = len(_failed_runs(wh))
        proc, tag = _run(env, argv)
        time.sleep(fraction * duration)
        finished_first = proc.poll() is not None
        proc.send_signal(sig)
        sent = time.monotonic()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"{sig.name} at {fraction:.0%}: the run was still alive 10 s after the signal")
        stopped_s = time.monotonic() - sent
        left = _wait_gone(tag, 10)
        assert left == [], f"{sig.name} at {fraction:.0%}: processes left {left}"
        assert integrity_problems(wh) == []
        assert snapshot(wh) == published  # the same input: before, or a completed run's identical state
        if sig == signal.SIGTERM:
            assert proc.returncode in (0, 143), err
            assert "Traceback" not in err, err
            assert not wh.with_name(wh.name + ".staging").exists()
            if proc.returncode == 143 and "stopped by SIGTERM" in err:
                failed = _failed_runs(wh)
                assert len(failed) == failed_before + 1 and "stopped by SIGTERM" in failed[-1], err
        outcomes.append(f"{sig.name}@{fraction:.0%}: rc={proc.returncode} in {stopped_s:.1f}s first={finished_first}")
    proc, tag = _run(env, argv)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _wait_gone(tag, 10) == []
    assert snapshot(wh) == published
    print(f"reference run {duration:.1f}s; " + "; ".join(outcomes))
