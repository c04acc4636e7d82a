"""Opening the warehouse, and publishing a run's changes so readers are never blocked.

DuckDB lets one process hold a database file read-write, and while it does every other process, read-only
too, fails with "Could not set lock on file". Analysts keep the warehouse open for hours, so a run never
writes the published file in place. Instead (`staged_writer`):

1. take the run lock `<warehouse>.lock` (fcntl; a second run waits, then stops with a clear message);
2. copy the published file to `<warehouse>.staging` and apply migrations and all loads to the copy;
3. CHECKPOINT and close the copy, fsync it, then `os.replace` it over the published path: an atomic rename.

A reader connected before the rename keeps reading its old snapshot (the old inode) until it reconnects; a
reader connecting after sees the new data; nobody ever sees a half-written state. A run that fails before
the rename deletes the staging copy, leaving the published warehouse exactly as it was.

Storage version. DuckDB 2.x writes its newest file format by default, which no DuckDB 1.x client (the
`duckdb` CLI on PyPI, DBeaver's driver, the R and Node bindings, BI connectors) can open. The warehouse is
therefore created in an explicit storage version, `$JEVONS_STORAGE_VERSION` or `DEFAULT_STORAGE_VERSION`:
v1.0.0, the format every DuckDB since 1.0 reads (storage number 64). Nothing jevons uses needs a newer one:
its tables are plain scalar columns, primary keys, views and comments, all in the v1.0 format; newer formats
only add compression choices. A file keeps the version it was created with when it is copied and written,
and a staging copy in another version (a warehouse created by an older jevons on DuckDB 2.x) is rewritten
into the configured one with `COPY FROM DATABASE` (which carries comments, keys and views) before the run
writes to it, so the published file always has the configured version.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError
from warehouse.migrations import apply_migrations

DEFAULT_WAREHOUSE = Path("data") / "jevons.duckdb"
ENV_VAR = "JEVONS_WAREHOUSE"
STORAGE_VERSION_ENV = "JEVONS_STORAGE_VERSION"
DEFAULT_STORAGE_VERSION = "v1.0.0"
_STORAGE_VERSION = re.compile(r"^v\d+\.\d+\.\d+$")


def storage_version() -> str:
    """The DuckDB storage version the warehouse is written in (`$JEVONS_STORAGE_VERSION`, e.g. v1.4.0)."""
    wanted = os.environ.get(STORAGE_VERSION_ENV, "").strip() or DEFAULT_STORAGE_VERSION
    if not _STORAGE_VERSION.match(wanted):
        raise WarehouseError(f"${STORAGE_VERSION_ENV}: {wanted!r} is not a DuckDB storage version (e.g. v1.0.0)")
    return wanted


def file_storage_version(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """The storage version of an open database file, as DuckDB reports it ('v1.0.0+' reads as 'v1.0.0')."""
    # fetchall, not fetchone: DuckDB 2 refuses further `con.sql` while a result is left unfinished
    name = database or str(con.execute("SELECT current_database()").fetchall()[0][0])
    rows = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?", [name]
    ).fetchall()
    return str(rows[0][0] if rows else "").rstrip("+")


def _same_version(found: str, wanted: str) -> bool:
    """v1.1.0 is written as v1.0.0 (the same format), so compare what DuckDB reports for each."""
    # A file, not ':memory:': an in-memory database carries no storage_version tag, so comparing against one
    # never matched and every run rewrote its whole staging copy.
    with tempfile.TemporaryDirectory(prefix="jevons-version-") as folder:
        probe = duckdb.connect()
        try:
            probe.execute(f"ATTACH '{Path(folder) / 'probe.duckdb'}' AS probe (STORAGE_VERSION '{wanted}')")
            return file_storage_version(probe, "probe") == found
        except duckdb.Error as exc:
            message = f"${STORAGE_VERSION_ENV}: DuckDB cannot write storage version {wanted!r}: {exc}"
            raise WarehouseError(message) from exc
        finally:
            probe.close()


def _rewrite_in_version(staging: Path, wanted: str) -> None:
    """Replace the staging copy by one in `wanted` storage version (tables, keys, views, comments)."""
    rewritten = staging.with_name(staging.name + ".rewrite")
    _remove(rewritten)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{staging}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{rewritten}' AS new (STORAGE_VERSION '{wanted}')")
        con.execute("COPY FROM DATABASE old TO new")
        con.execute("DETACH new")
    finally:
        con.close()
    _remove(staging)
    os.replace(rewritten, staging)


def _open_staging(staging: Path, copied: bool) -> duckdb.DuckDBPyConnection:
    """Connect to the staging file, in the configured storage version whether new or copied."""
    wanted = storage_version()
    if not copied:
        return duckdb.connect(str(staging), config={"storage_compatibility_version": wanted})
    probe = duckdb.connect(str(staging), read_only=True)
    try:
        found = file_storage_version(probe)
    finally:
        probe.close()
    if not _same_version(found, wanted):
        _rewrite_in_version(staging, wanted)
    return duckdb.connect(str(staging))


def resolve_path(path: str | Path | None = None) -> Path:
    """The warehouse file: the argument, else $JEVONS_WAREHOUSE, else data/jevons.duckdb."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_WAREHOUSE


_LOCK_PID = re.compile(r"PID (\d+)")


def _lock_message(path: Path, exc: Exception) -> str:
    text = str(exc)
    pid = _LOCK_PID.search(text)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (
        f"warehouse {path} is held read-write by {holder}; close that connection "
        f"(readers should use read_only=True or `duckdb -readonly`). DuckDB said: {text}"
    )


def connect_read_only(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only; a clear error when missing or locked read-write."""
    p = Path(path)
    if not p.exists():
        raise WarehouseError(f"no warehouse at {p}: run `jevons run` first, or pass --warehouse PATH")
    try:
        return duckdb.connect(str(p), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(_lock_message(p, exc)) from exc
        raise WarehouseError(f"cannot open warehouse {p}: {exc}") from exc


def _check_no_writer(path: Path, attempts: int, delay_s: float) -> None:
    """Wait (bounded) until no process holds the published file read-write, so the copy is consistent."""
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            duckdb.connect(str(path), read_only=True).close()
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"cannot read warehouse {path}: {exc}") from exc
            last = exc
            if attempt + 1 < attempts:
                time.sleep(delay_s)
    assert last is not None
    raise WarehouseError(_lock_message(path, last))


@contextlib.contextmanager
def run_lock(path: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Exclusive lock for writers of one warehouse: overlapping runs never both write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    raise WarehouseError(
                        f"another jevons run (pid {holder}) is writing {path}; "
                        "wait for it to finish (runs are idempotent, so simply re-run afterwards)"
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def staged_writer(
    path: str | Path,
    *,
    lock_wait_s: float = 0.0,
    writer_wait_attempts: int = 10,
    writer_wait_delay_s: float = 1.0,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a staging copy, migrated; publish it atomically on success."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create the warehouse directory {target.parent}: {exc}") from exc
    staging = target.with_name(target.name + ".staging")
    with run_lock(target, wait_s=lock_wait_s):
        _remove(staging)
        try:
            copied = target.exists()
            if copied:
                _check_no_writer(target, writer_wait_attempts, writer_wait_delay_s)
                shutil.copyfile(target, staging)
            con = _open_staging(staging, copied)
        except (OSError, duckdb.Error) as exc:
            _remove(staging)
            raise WarehouseError(f"cannot prepare a staging copy of {target}: {exc}") from exc
        try:
            apply_migrations(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
            _fsync(staging)
            os.replace(staging, target)
            _fsync(target.parent)
        except BaseException:
            with contextlib.suppress(Exception):
                con.close()
            _remove(staging)
            raise


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync(path: Path) -> None:
    """Flush a file (or a directory entry, after the rename) to disk before reporting success."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
