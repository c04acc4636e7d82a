"""The published warehouse opens in DuckDB 1.x clients: the PyPI `duckdb-cli` (1.5) and the 1.x Python wheel.

DuckDB 2.x writes a storage format 1.x cannot read ("version number 69 … only versions between 64 and 68"),
so warehouse.connection creates and keeps the warehouse in an explicit storage version (v1.0.0 by default).
These tests publish a warehouse through `staged_writer` (migrations, staging copy, rename), then open it
read-only with the real 1.x clients in their own environments (`uvx`, `uv run --no-project --with`): a mart's
rows and its table and column comments must come back. Skipped when `uv` is not on PATH or PyPI is unreachable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pytest

from warehouse import connection
from warehouse.connection import STORAGE_VERSION_ENV, file_storage_version, staged_writer

CLI = "duckdb-cli==1.5.*"
WHEEL = "duckdb==1.4.*"
QUERY = (
    "SELECT (SELECT count(*) FROM marts.event_skips) AS n_rows, "
    "(SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'event_skips') AS t_comment, "
    "(SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'event_skips' "
    "AND column_name = 'reason_code') AS c_comment"
)


def _publish(path: Path) -> None:
    with staged_writer(path) as con:
        con.execute(
            "INSERT OR REPLACE INTO marts.event_skips VALUES ('deepseek_r1', 'CEG', 'no_prices', 'x'), "
            "('deepseek_r1', 'VST', 'short_estimation', 'y')"
        )


def _expected(path: Path) -> tuple[int, str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        [(n, t_comment, c_comment)] = con.execute(QUERY).fetchall()
        return int(n), str(t_comment), str(c_comment)
    finally:
        con.close()


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    return uv


def _client(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    # uv keeps `uvx` tools under ~/.local/share/uv/tools, which a CI runner's read-only $HOME does not allow
    env.setdefault("UV_TOOL_DIR", str(Path(tempfile.gettempdir()) / "jevons-test-uv-tools"))
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, cwd="/")
    if done.returncode != 0 and ("Failed to fetch" in done.stderr or "No solution found" in done.stderr):
        pytest.skip(f"cannot install the 1.x client: {done.stderr[-300:]}")
    return done


def test_published_warehouse_keeps_the_configured_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wh = tmp_path / "w.duckdb"
    _publish(wh)
    con = duckdb.connect(str(wh), read_only=True)
    assert file_storage_version(con) == "v1.0.0"
    con.close()
    rewrites: list[Path] = []
    real_rewrite = connection._rewrite_in_version
    monkeypatch.setattr(connection, "_rewrite_in_version", lambda *a: rewrites.append(a[0]) or real_rewrite(*a))
    _publish(wh)  # a second publication (copy, migrate, write, rename) keeps it, without rewriting the copy
    assert rewrites == []  # a copy already in the configured version is used as it is (no COPY FROM DATABASE)
    con = duckdb.connect(str(wh), read_only=True)
    assert file_storage_version(con) == "v1.0.0"
    con.close()
    monkeypatch.setenv(STORAGE_VERSION_ENV, "v1.4.0")
    _publish(wh)  # a different configured version rewrites the staging copy, rows and comments included
    con = duckdb.connect(str(wh), read_only=True)
    assert file_storage_version(con) == "v1.4.0"
    con.close()
    assert len(rewrites) == 1
    assert _expected(wh)[0] == 2


def test_a_warehouse_in_duckdb_2_format_is_rewritten(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))  # an old jevons: DuckDB's newest format
    assert file_storage_version(con).startswith("v2")
    con.close()
    _publish(wh)
    con = duckdb.connect(str(wh), read_only=True)
    assert file_storage_version(con) == "v1.0.0"
    con.close()


def test_duckdb_cli_1_5_reads_a_mart_and_its_comments(tmp_path: Path) -> None:
    wh = tmp_path / "jevons.duckdb"
    _publish(wh)
    n, t_comment, c_comment = _expected(wh)
    done = _client([_uv(), "tool", "run", "--from", CLI, "duckdb", "-readonly", "-json", str(wh), "-c", QUERY])
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert (row["n_rows"], row["t_comment"], row["c_comment"]) == (n, t_comment, c_comment)
    version = _client([_uv(), "tool", "run", "--from", CLI, "duckdb", "-version"])
    assert version.stdout.startswith("v1.5"), version.stdout


def test_duckdb_python_1_4_reads_a_mart_and_its_comments(tmp_path: Path) -> None:
    wh = tmp_path / "jevons.duckdb"
    _publish(wh)
    code = (
        "import duckdb, json, sys\n"
        f"con = duckdb.connect({str(wh)!r}, read_only=True)\n"
        f"print(json.dumps([duckdb.__version__, *con.execute({QUERY!r}).fetchone()]))\n"
    )
    done = _client([_uv(), "run", "--no-project", "--isolated", "--with", WHEEL, "python", "-c", code])
    assert done.returncode == 0, done.stderr
    version, *row = json.loads(done.stdout.strip().splitlines()[-1])
    assert version.startswith("1.4")
    assert tuple(row) == _expected(wh)
