"""The source registry's entry for `--electricity-from DIR` (flows.sources.registry, source `eia-files`).

A thin adapter: `extract` reads the folder with `load.load_files` (every file recognised by its header,
overlapping vintages merged, revisions counted as warnings) and hands the flow the same frames the EIA API
source returns, keyed by table name, so the loader's keyed upserts treat both paths alike and a re-run of the
same folder inserts and updates nothing. `validate` is the CLI's pre-flight check: it detects every file's
layout (headers only, a fraction of a second), so an unknown file fails before the flow starts, naming the
file and the accepted layouts.
"""

from __future__ import annotations

from pathlib import Path

from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.eia_files.detect import walk
from flows.sources.eia_files.errors import ElectricityFileError
from flows.sources.eia_files.load import load_files
from flows.sources.eia_files.vintages import STAGE


def extract(ctx: ExtractContext) -> SourceResult:
    """Every recognised file under the run's --electricity-from folder, as core rows by table name."""
    if ctx.option is None:
        raise ElectricityFileError(Path("."), "no electricity folder given (--electricity-from)")
    loaded = load_files(ctx.option)
    summary = ", ".join(f"{Path(path).name} ({layout}, {rows:,} rows)" for path, layout, _, rows in loaded.files)
    loaded.result.warnings.insert(0, SourceWarning(STAGE, str(ctx.option), "files_read", f"read {summary}"))
    return loaded.result


def validate(directory: str) -> None:
    """Detect every file's layout (raises ElectricityFileError naming the first unrecognised file)."""
    walk(directory)
