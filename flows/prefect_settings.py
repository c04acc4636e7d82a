"""Prefect's settings for a `jevons` command run from any directory, and a Prefect home that can be written.

prefect.toml is the one place the settings are written. Prefect reads it only from the directory it runs in, so
run from elsewhere the CLI applies the same values as environment defaults (never over a user's own), with
Prefect's home under ~/.jevons/prefect instead of ./.prefect. Where the home directory cannot be written (a
read-only or foreign $HOME, as on some CI runners and service accounts) Prefect would only warn and its
temporary server would then fail to open its SQLite database; the CLI picks a per-user directory under the
system temporary directory instead and says so once on stderr.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

PREFECT_TOML = Path(__file__).resolve().parent.parent / "prefect.toml"


def prefect_toml_settings(path: Path = PREFECT_TOML) -> dict[str, str]:
    """prefect.toml's settings as Prefect environment variables (`[server.ephemeral] enabled` →
    PREFECT_SERVER_EPHEMERAL_ENABLED), `home` excepted: it is relative to the directory jevons runs from."""
    out: dict[str, str] = {}

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            name = f"{prefix}_{key}".upper()
            if isinstance(value, dict):
                walk(value, name)
            elif name != "PREFECT_HOME":
                out[name] = str(value).lower() if isinstance(value, bool) else str(value)

    with path.open("rb") as handle:
        walk(tomllib.load(handle), "PREFECT")
    return out


def writable_dir(path: Path) -> bool:
    """Whether `path` exists as a directory this process can write, creating it (and its parents) if needed."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def user_prefect_home() -> Path:
    """~/.jevons/prefect, or `<tmp>/jevons-<uid>/prefect` when the home directory cannot be written."""
    try:
        preferred: Path | None = Path.home() / ".jevons" / "prefect"
    except (RuntimeError, KeyError):  # no $HOME and no passwd entry
        preferred = None
    if preferred is not None and writable_dir(preferred):
        return preferred
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    fallback = Path(tempfile.gettempdir()) / f"jevons-{uid}" / "prefect"
    where = str(preferred) if preferred is not None else "the home directory"
    print(
        f"note: {where} cannot be written; Prefect's home is {fallback} for this run (set PREFECT_HOME to choose)",
        file=sys.stderr,
    )
    return fallback


def apply_prefect_defaults(cwd: Path | None = None) -> None:
    """Set prefect.toml's values as environment defaults and, outside the project directory, a Prefect home."""
    for name, value in prefect_toml_settings().items():
        os.environ.setdefault(name, value)
    here = cwd if cwd is not None else Path.cwd()
    if "PREFECT_HOME" not in os.environ and not (here / "prefect.toml").exists():
        os.environ["PREFECT_HOME"] = str(user_prefect_home())
