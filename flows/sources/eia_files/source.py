"""The source registry's entry for `--electricity-from DIR` (flows.sources.registry, source `eia-files`).

A thin adapter: `extract` reads the folder with `load.load_files` (every file recognised by its header,
overlapping vintages merged, revisions counted as warnings) and hands the flow the same frames the EIA API
source returns, keyed by table name, so the loader's keyed upserts treat both paths alike and a re-run of the
same folder inserts and updates nothing.

`validate` is the CLI's pre-flight check: it reads the whole folder (an unknown file, a truncated file or a
bad number fails before the flow starts, with the file, line and column, and nothing is written, not even a
failed-run record). Reading twice would double the cost of a large folder, so the read is kept (one entry)
and `extract` reuses it when the folder is unchanged: the same files with the same sizes and modification
times. A deployment run, in another process, simply reads the folder in its extract.
"""

from __future__ import annotations

from pathlib import Path

from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.eia_files.errors import ElectricityFileError
from flows.sources.eia_files.load import FileLoad, load_files
from flows.sources.eia_files.vintages import STAGE

Signature = tuple[str, tuple[tuple[str, int, int], ...]]
_read_ahead: dict[Signature, FileLoad] = {}


def _signature(directory: str) -> Signature:
    """The folder's identity for reuse: its resolved path and every file's (path, size, mtime in ns)."""
    root = Path(directory).resolve()
    if not root.is_dir():
        return str(root), ()
    files = sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file())
    return str(root), tuple(files)


def read(directory: str) -> FileLoad:
    """load_files(directory), reusing the pre-flight read when the folder has not changed since."""
    signature = _signature(directory)
    loaded = _read_ahead.pop(signature, None)
    return loaded if loaded is not None else load_files(directory)


def extract(ctx: ExtractContext) -> SourceResult:
    """Every recognised file under the run's --electricity-from folder, as core rows by table name."""
    if ctx.option is None:
        raise ElectricityFileError(Path("."), "no electricity folder given (--electricity-from)")
    loaded = read(ctx.option)
    summary = ", ".join(f"{Path(path).name} ({layout}, {rows:,} rows)" for path, layout, _, rows in loaded.files)
    loaded.result.warnings.insert(0, SourceWarning(STAGE, str(ctx.option), "files_read", f"read {summary}"))
    return loaded.result


def validate(directory: str) -> None:
    """Read the whole folder (raises ElectricityFileError naming file, line and column of the first problem)
    and keep the read for the run's extract."""
    _read_ahead.clear()
    signature = _signature(directory)
    _read_ahead[signature] = load_files(directory)
