"""Benchmark: what a command costs before jevons does anything: `uv run`'s sync, bytecode, and importing the flow.

With PYTHONDONTWRITEBYTECODE set (this machine and its CI), Python never caches the bytecode it compiles, so the
environment's `.pyc` files come only from `uv sync --compile-bytecode`. Setting `compile-bytecode = true` in
pyproject.toml instead made uv recompile the whole environment on every `uv run` (each `uv run` syncs); this
compares the two, and both with no bytecode at all. Each command runs `--repeats` times, the commands in turn
(so a change in the host's load hits them alike); it prints the median wall and CPU seconds (user + system of
the child processes) of each.

    uv run python tests/bench/bench_startup.py [--repeats 5]
    uv run pytest -m slow tests/bench/bench_startup.py      # checks that a second `uv run` compiles nothing
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
COMPILED_LINE = "Bytecode compiled"
IMPORT_FLOW = "import flows.daily"


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is not on PATH (python3 -m pip install uv)")
    return uv


def _cases(no_pyc_dir: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    uv = _uv()
    python = str(PROJECT / ".venv" / "bin" / "python")
    return {
        "uv run jevons --help, bytecode compiled once at sync (now)": ([uv, "run", "jevons", "--help"], {}),
        "uv run jevons --help, compile-bytecode on every sync (before)": (
            [uv, "run", "jevons", "--help"],
            {"UV_COMPILE_BYTECODE": "1"},
        ),
        f"uv run python -c '{IMPORT_FLOW}' (now)": ([uv, "run", "python", "-c", IMPORT_FLOW], {}),
        f"uv run python -c '{IMPORT_FLOW}' (before)": (
            [uv, "run", "python", "-c", IMPORT_FLOW],
            {"UV_COMPILE_BYTECODE": "1"},
        ),
        f"python -c '{IMPORT_FLOW}' with no bytecode at all": (
            [python, "-c", IMPORT_FLOW],
            {"PYTHONPYCACHEPREFIX": str(no_pyc_dir)},  # an empty cache tree: every module compiled from source
        ),
    }


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the children, stderr) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def measure(repeats: int) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("UV_COMPILE_BYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory() as tmp:
        cases = _cases(Path(tmp) / "no-pyc")
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        compiled: dict[str, int] = dict.fromkeys(cases, 0)
        for _ in range(repeats):
            for name, (cmd, extra) in cases.items():
                wall, cpu, err = _run(cmd, {**base, **extra})
                walls[name].append(wall)
                cpus[name].append(cpu)
                compiled[name] += COMPILED_LINE in err
    lines = [f"{repeats} runs each, load average {os.getloadavg()[0]:.1f} at the end:"]
    for name in cases:
        lines.append(
            f"  {name}: wall median {statistics.median(walls[name]):.2f} s (min {min(walls[name]):.2f}, max "
            f"{max(walls[name]):.2f}), CPU median {statistics.median(cpus[name]):.2f} s; "
            f"'{COMPILED_LINE}' in {compiled[name]} of {repeats} runs"
        )
    return lines


@pytest.mark.slow
def test_second_uv_run_compiles_no_bytecode() -> None:
    """`uv run jevons --help` twice: the second call must not recompile the environment."""
    env = {k: v for k, v in os.environ.items() if k != "UV_COMPILE_BYTECODE"}
    _run([_uv(), "run", "jevons", "--help"], env)
    _, _, err = _run([_uv(), "run", "jevons", "--help"], env)
    assert COMPILED_LINE not in err, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(measure(args.repeats)))


if __name__ == "__main__":
    main()
