"""The chart cache: a chart whose inputs (and drawing code) are unchanged is reused byte for byte, not redrawn.

A daily run adds one day, which moves at most the charts of events whose window holds that day; the rest are
reused, so a report on such a day does not even import matplotlib.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from flows.report.markup import img

CHART_PATTERNS = (
    "timeline_power_caar.png",
    "*_car_paths.png",
    "*_day0.png",
    "*_demand.png",
    "weather_normal_demand.png",
    "shocks_z.png",
)
"""The file names of the charts, so a report can remove those an earlier one left for events it does not show."""


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a reader (or a crash) never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _fingerprint_part(value: Any) -> bytes:
    """Bytes that change whenever a chart input's content does (frames by their Arrow IPC bytes)."""
    if isinstance(value, pl.DataFrame):
        buf = io.BytesIO()
        value.write_ipc(buf, compression="uncompressed")
        return buf.getvalue()
    return repr(value).encode()


def _code_fingerprint() -> str:
    """The chart code and matplotlib's version: a change to either redraws every chart."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("matplotlib").encode())
    for module in ("charts.py", "style.py", "weather_charts.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


class ChartCache:
    """Writes each chart as a PNG into the output folder and returns its embedded <img>.

    Charts are cached by input: `.chart_keys.json` maps each PNG to the fingerprint of what drew it; an
    unchanged fingerprint with the PNG present reuses the file's bytes (identical to a redraw: Agg output is
    deterministic for the same inputs), so matplotlib is imported and run only for charts whose data moved."""

    KEYS_FILE = ".chart_keys.json"

    def __init__(self, out: Path) -> None:
        self.out = out
        self.paths: list[Path] = []
        self.drawn: list[str] = []
        self.reused: list[str] = []
        try:
            self._old_keys: dict[str, str] = json.loads((out / self.KEYS_FILE).read_text())
        except (OSError, ValueError):
            self._old_keys = {}
        self._keys: dict[str, str] = {}
        self._code: str | None = None

    def add(self, name: str, alt: str, chart: str, *args: Any) -> str:
        """flows.report.charts.<chart>(*args) unless the PNG `name` was drawn from equal args by the same code."""
        self._code = self._code or _code_fingerprint()
        digest = hashlib.sha256(f"{self._code}|{name}|{chart}".encode())
        for arg in args:
            digest.update(_fingerprint_part(arg))
            digest.update(b"\x00")
        key = digest.hexdigest()
        path = self.out / name
        data = path.read_bytes() if self._old_keys.get(name) == key and path.exists() else None
        if data is None:
            from flows.report import charts  # matplotlib: imported only when something must be drawn

            # "module:function" names a section's own chart module (flows.report.weather_charts)
            module = importlib.import_module(chart.partition(":")[0]) if ":" in chart else charts
            draw: Callable[..., bytes] = getattr(module, chart.rpartition(":")[2])
            data = draw(*args)
            write_atomic(path, data)
            self.drawn.append(name)
        else:
            self.reused.append(name)
        self._keys[name] = key
        self.paths.append(path)
        return img(data, alt)

    def remove_stale(self) -> None:
        """Charts an earlier report left in the folder for events this one does not show."""
        keep = set(self.paths)
        for pattern in CHART_PATTERNS:
            for path in self.out.glob(pattern):
                if path not in keep:
                    path.unlink(missing_ok=True)

    def save_keys(self) -> None:
        write_atomic(self.out / self.KEYS_FILE, json.dumps(self._keys, indent=1, sort_keys=True).encode())
