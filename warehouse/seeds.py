"""Typed loader and validator for the hand-edited seed CSVs: the AI-event catalog and the ticker universe.

Why validate by hand: the seeds are typed by people, and a slip in one of them (a date in the wrong format,
an unknown category, an id used twice, a ticker missing from its benchmark) would silently move an event
study's day 0 or drop a ticker from its peer group. So every problem stops the load with a `SeedError` that
names the file, the physical line (the header is line 1) and the field, and says what would be accepted.

Why the `csv` module rather than polars' CSV reader: descriptions contain commas and may contain quoted line
breaks, and only a record-by-record reader lets us report the exact physical line of each record. The polars
frame is built once, at the end, with exactly the columns, order and types the table registry declares for
`core.ai_events` and `core.universe`, so the frame can be upserted without any reshaping.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from warehouse.errors import SeedError
from warehouse.registry import Table
from warehouse.tables.core import AI_EVENTS, UNIVERSE

__all__ = [
    "CATEGORIES",
    "EVENTS_CSV",
    "GROUPS",
    "SEEDS_DIR",
    "UNIVERSE_CSV",
    "read_events",
    "read_universe",
]

SEEDS_DIR: Path = Path(__file__).resolve().parent / "seeds"
"""The directory holding the shipped seed files (beside this module, so it travels with the package)."""

EVENTS_CSV: Path = SEEDS_DIR / "ai_events.csv"
"""The shipped AI-event catalog (header: event_id,event_date,name,category,description,source_url)."""

UNIVERSE_CSV: Path = SEEDS_DIR / "universe.csv"
"""The shipped ticker universe (header: ticker,name,group,benchmark,history_from,history_source; the last two
optional)."""


CATEGORIES: tuple[str, ...] = ("efficiency", "demand", "policy")
"""Event categories: AI gets cheaper per unit, more AI compute or power is bought, or a government acts."""

GROUPS: tuple[str, ...] = (
    "independent_power",
    "nuclear_uranium",
    "grid_equipment",
    "regulated_utilities",
    "gas",
    "sector_etfs",
    "ai_hardware",
    "benchmarks",
)
"""Peer groups of the universe, in the order reports list them."""

_SLUG = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""Lowercase snake_case: starts with a letter, single underscores between runs of a-z and 0-9."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""Only the extended ISO form; `date.fromisoformat` alone would also accept 20250127 and week dates."""

_TICKER = re.compile(r"[A-Z0-9.\-^=]+")
"""Yahoo Finance symbols: upper-case letters, digits and . - ^ = (BRK-B, ^GSPC, CL=F)."""

_TICKER_RULE = "use only upper-case letters A-Z, digits 0-9 and the characters . - ^ = (e.g. BRK-B, ^GSPC)"

_POLARS_TYPES: dict[str, pl.DataType] = {"VARCHAR": pl.String(), "DATE": pl.Date()}
"""Registry (DuckDB) type -> polars dtype, for the types the seed tables use."""


@dataclass(frozen=True)
class _Record:
    """One data row: the physical line it starts on and its trimmed values by column name."""

    line: int
    values: dict[str, str]


def read_events(path: Path | str = EVENTS_CSV) -> pl.DataFrame:
    """Read and validate the AI-event catalog; returns a frame shaped exactly like `core.ai_events`.

    Checks, per row: event_id is a lowercase snake_case slug and unique; event_date is a real ISO date;
    category is one of CATEGORIES; source_url is an http(s) address; no required field is blank.
    Raises SeedError (file, line, field) on the first problem.
    """
    path = Path(path)
    records = _read_records(path, AI_EVENTS)
    first_seen: dict[str, int] = {}
    dates: list[date] = []
    for rec in records:
        event_id = rec.values["event_id"]
        if not _SLUG.fullmatch(event_id):
            raise SeedError(
                path,
                rec.line,
                "event_id",
                f"{_show(event_id)} is not a lowercase snake_case slug "
                "(a-z and 0-9 in runs joined by single underscores, starting with a letter, e.g. deepseek_r1)",
            )
        if event_id in first_seen:
            raise SeedError(
                path,
                rec.line,
                "event_id",
                f"duplicate event_id {_show(event_id)}: already used on line {first_seen[event_id]}",
            )
        first_seen[event_id] = rec.line
        dates.append(_parse_date(path, rec.line, "event_date", rec.values["event_date"]))
        category = rec.values["category"]
        if category not in CATEGORIES:
            raise SeedError(
                path,
                rec.line,
                "category",
                f"unknown category {_show(category)}; allowed: {', '.join(CATEGORIES)}",
            )
        _check_url(path, rec.line, "source_url", rec.values["source_url"])
    return _frame(AI_EVENTS, records, {"event_date": dates})


def read_universe(path: Path | str = UNIVERSE_CSV) -> pl.DataFrame:
    """Read and validate the ticker universe; returns a frame shaped exactly like `core.universe`.

    Checks, per row: ticker has a valid Yahoo-style format and is unique; group is one of GROUPS; benchmark
    has a valid format and is itself a ticker of the file (so its prices get loaded: the market model needs
    them); no required field is blank; history_from (optional) is an ISO date given with a history_source.
    Raises SeedError (file, line, field) on the first problem.
    """
    path = Path(path)
    records = _read_records(path, UNIVERSE)
    first_seen: dict[str, int] = {}
    for rec in records:
        ticker = rec.values["ticker"]
        if not _TICKER.fullmatch(ticker):
            raise SeedError(path, rec.line, "ticker", f"{_show(ticker)} is not a valid ticker: {_TICKER_RULE}")
        if ticker in first_seen:
            raise SeedError(
                path,
                rec.line,
                "ticker",
                f"duplicate ticker {_show(ticker)}: already listed on line {first_seen[ticker]}",
            )
        first_seen[ticker] = rec.line
        group = rec.values["group"]
        if group not in GROUPS:
            raise SeedError(path, rec.line, "group", f"unknown group {_show(group)}; allowed: {', '.join(GROUPS)}")
        benchmark = rec.values["benchmark"]
        if not _TICKER.fullmatch(benchmark):
            raise SeedError(path, rec.line, "benchmark", f"{_show(benchmark)} is not a valid ticker: {_TICKER_RULE}")
        _check_history(path, rec)
    # Second pass: a benchmark may be listed further down the file than the rows that use it.
    for rec in records:
        benchmark = rec.values["benchmark"]
        if benchmark not in first_seen:
            raise SeedError(
                path,
                rec.line,
                "benchmark",
                f"benchmark {_show(benchmark)} is not a ticker in this file; add a row for it "
                "(a benchmark's own benchmark may be itself)",
            )
    starts = [
        _parse_date(path, r.line, "history_from", v) if (v := r.values.get("history_from")) else None for r in records
    ]
    return _frame(UNIVERSE, records, {"history_from": starts})


def _check_history(path: Path, rec: _Record) -> None:
    """history_from (optional) is an ISO date and comes with its reason in history_source."""
    if rec.values.get("history_from") and not rec.values.get("history_source"):
        raise SeedError(
            path, rec.line, "history_source", "history_from is set: say why that date, with a source (an SEC filing)"
        )


def _read_records(path: Path, table: Table) -> list[_Record]:
    """Decode, parse and check the header and the shape of every row; values come back trimmed.

    Blank lines are skipped (but still counted, so line numbers stay physical). A row with fewer fields than
    the header is reported as a blank field; trailing empty fields beyond the header (spreadsheet padding)
    are tolerated, any other extra field is an error (usually an unquoted comma).
    """
    expected = table.column_names
    if not path.exists():
        raise SeedError(path, None, None, "file not found")
    if not path.is_file():
        raise SeedError(path, None, None, "not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SeedError(path, None, None, f"cannot read the file: {exc.strerror or exc}") from None
    text = _decode(path, raw)
    if not text.strip():
        raise SeedError(path, 1, None, f"file is empty; expected the header line {','.join(expected)}")

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 1
    records: list[_Record] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SeedError(
                path,
                start,
                None,
                f"malformed CSV in the record starting here ({exc}); put double quotes around values that "
                'contain commas, quotes or line breaks, and double any quote inside them ("")',
            ) from None
        fields = [value.strip() for value in row]
        if not any(fields):
            continue
        if header is None:
            optional = tuple(c.name for c in table.columns if c.nullable and c.name not in table.primary_key)
            header = _check_header(path, start, fields, expected, optional)
            header_line = start
            continue
        records.append(_record(path, start, header, fields, table))
    if not records:
        raise SeedError(path, header_line, None, "no data rows after the header")
    return records


def _check_header(
    path: Path, line: int, names: list[str], expected: list[str], optional: tuple[str, ...] = ()
) -> list[str]:
    """The header must name every expected column once and nothing else (any order); `optional` columns (the
    nullable ones, e.g. universe.csv's history_from) may be left out."""
    wanted = f"expected header: {','.join(expected)}"
    positions: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if not name:
            raise SeedError(path, line, None, f"header column {index} has no name; {wanted}")
        if name in positions:
            raise SeedError(
                path, line, name, f"column '{name}' appears twice in the header (columns {positions[name]} and {index})"
            )
        positions[name] = index
    missing = [c for c in expected if c not in positions and c not in optional]
    unknown = [n for n in names if n not in expected]
    if missing:
        problem = f"missing required column(s): {', '.join(missing)}"
        if unknown:
            problem += f"; unknown column(s): {', '.join(unknown)}"
        raise SeedError(path, line, missing[0], f"{problem}; {wanted}")
    if unknown:
        raise SeedError(path, line, unknown[0], f"unknown column(s): {', '.join(unknown)}; {wanted}")
    return names


def _record(path: Path, line: int, header: list[str], fields: list[str], table: Table) -> _Record:
    """Pair one row with the header, rejecting extra fields and blank required values."""
    extra = fields[len(header) :]
    if any(extra):
        raise SeedError(
            path,
            line,
            None,
            f"row has {len(fields)} fields but the header has {len(header)}; put double quotes around "
            "values that contain commas",
        )
    values = dict(zip(header, fields, strict=False))
    for column in table.columns:
        required = column.name in table.primary_key or not column.nullable
        if required and not values.get(column.name):
            missing_field = len(fields) < len(header) and column.name not in header[: len(fields)]
            why = f" (the row has only {len(fields)} of {len(header)} fields)" if missing_field else ""
            raise SeedError(path, line, column.name, f"required value is blank{why}")
    return _Record(line, values)


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 text without a leading BOM; undecodable bytes are reported by line and, if possible, field."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(raw[: exc.start].decode("utf-8"))
        bad = " ".join(f"0x{b:02x}" for b in raw[exc.start : exc.end])
        raise SeedError(
            path, line, _field_of_first_bad_byte(raw), f"not valid UTF-8 (byte {bad}); re-save the file as UTF-8"
        ) from None


def _line_of(prefix: str) -> int:
    """Physical line number of the character right after `prefix` (\\n, \\r\\n and lone \\r all end a line)."""
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _field_of_first_bad_byte(raw: bytes) -> str | None:
    """Column name holding the first undecodable byte, found by parsing with the bytes smuggled through.

    Returns None when the bad byte is in the header itself or the file cannot be parsed far enough.
    """
    text = raw.decode("utf-8", errors="surrogateescape")
    header: list[str] | None = None
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if not any(value.strip() for value in row):
                continue
            bad_index = next((i for i, value in enumerate(row) if _has_smuggled_bytes(value)), None)
            if header is None:
                if bad_index is not None:
                    return None
                header = [value.strip() for value in row]
            elif bad_index is not None:
                return header[bad_index] if bad_index < len(header) else None
    except csv.Error:
        return None
    return None


def _has_smuggled_bytes(value: str) -> bool:
    """True when `value` contains a byte that surrogateescape decoding could not map to a character."""
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _parse_date(path: Path, line: int, field: str, value: str) -> date:
    """A real calendar date written YYYY-MM-DD (the only form that sorts and reads the same everywhere)."""
    if not _ISO_DATE.fullmatch(value):
        raise SeedError(path, line, field, f"{_show(value)} is not an ISO date; write YYYY-MM-DD, e.g. 2025-01-27")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SeedError(path, line, field, f"{_show(value)} is not a real calendar date (YYYY-MM-DD)") from None


def _check_url(path: Path, line: int, field: str, value: str) -> None:
    """An absolute http(s) URL with a host and no spaces, so the source can be opened as written."""
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.netloc) and not any(ch.isspace() for ch in value)
    except ValueError:
        ok = False
    if not ok:
        raise SeedError(
            path, line, field, f"{_show(value)} is not an http(s) URL; give the full address, e.g. https://..."
        )


def _show(value: str, limit: int = 80) -> str:
    """A value quoted for an error message, shortened so one bad cell cannot flood the terminal."""
    shown = value if len(value) <= limit else value[: limit - 3] + "..."
    return f"'{shown}'"


def _frame(table: Table, records: list[_Record], parsed: Mapping[str, Sequence[date | None]]) -> pl.DataFrame:
    """Build the frame once, with the registry's column names, order and types (a blank or absent optional
    value is null)."""
    schema = {c.name: _POLARS_TYPES[c.dtype] for c in table.columns}
    data: dict[str, list[object]] = {}
    for name in schema:
        data[name] = list(parsed[name]) if name in parsed else [rec.values.get(name) or None for rec in records]
    return pl.DataFrame(data, schema=schema)
