"""Seeds that map electricity regions to their clocks and their weather: EIA-930 time zones, weather weights.

They share the catalog seeds' record reader (warehouse.seeds: header, encoding, file/line/field errors) and
differ only in what a row must satisfy: a known IANA zone, a known nClimDiv area or ISO, weights summing to 1.
"""

from __future__ import annotations

import functools
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from warehouse.errors import SeedError
from warehouse.registry import Column, Table
from warehouse.seeds import SEEDS_DIR, _read_records, _Record, _show

WEATHER_STATES_CSV: Path = SEEDS_DIR / "weather_region_states.csv"
"""Region -> states (nClimDiv areas) and load weights for the monthly weather model (issue 17)."""

WEATHER_ZONES_CSV: Path = SEEDS_DIR / "weather_region_zones.csv"
"""Region -> grid weather zones and weights for the daily weather model (issue 17)."""


# ------------------------------------------------------------------------------- weather weights (issue 17)


def read_weather_region_states(path: Path | str = WEATHER_STATES_CSV) -> pl.DataFrame:
    """Read and validate region -> state weights: known state and nClimDiv area, weight in (0, 1], unique
    (region, state), weights summing to 1 per region. Raises SeedError (file, line, field)."""
    from warehouse.tables.weather import AREA_CODES, REGION_STATES_SEED, US_POSTAL_CODES

    path = Path(path)
    records = _read_records(path, REGION_STATES_SEED)
    areas = set(AREA_CODES.values())
    for rec in records:
        state, area = rec.values["state"], rec.values["area"]
        if state not in US_POSTAL_CODES and state != "US48":
            raise SeedError(path, rec.line, "state", f"unknown state {_show(state)}; use a postal code or US48")
        if area not in areas:
            raise SeedError(path, rec.line, "area", f"{_show(area)} is not a nClimDiv area (postal code, US48)")
    return _weights_frame(path, records, REGION_STATES_SEED, ("region", "state"))


def read_weather_region_zones(path: Path | str = WEATHER_ZONES_CSV) -> pl.DataFrame:
    """Read and validate region -> weather-zone weights (known ISO, weight in (0, 1], sums to 1 per region)."""
    from warehouse.tables.weather import REGION_ZONES_SEED, ZONE_ISOS

    path = Path(path)
    records = _read_records(path, REGION_ZONES_SEED)
    for rec in records:
        if rec.values["iso"] not in ZONE_ISOS:
            allowed = ", ".join(ZONE_ISOS)
            raise SeedError(path, rec.line, "iso", f"unknown ISO {_show(rec.values['iso'])}; allowed: {allowed}")
    return _weights_frame(path, records, REGION_ZONES_SEED, ("region", "iso", "zone"))


def _weights_frame(path: Path, records: list[_Record], table: Table, key: tuple[str, ...]) -> pl.DataFrame:
    """Check weights (a number in (0, 1], unique key, sum 1 per region within 1e-6) and build the frame."""
    seen: dict[tuple[str, ...], int] = {}
    totals: dict[str, tuple[float, int]] = {}
    weights: list[float] = []
    for rec in records:
        k = tuple(rec.values[c] for c in key)
        if k in seen:
            raise SeedError(path, rec.line, key[-1], f"duplicate {'/'.join(k)}: already on line {seen[k]}")
        seen[k] = rec.line
        try:
            weight = float(rec.values["weight"])
        except ValueError:
            raise SeedError(path, rec.line, "weight", f"{_show(rec.values['weight'])} is not a number") from None
        if not 0.0 < weight <= 1.0:
            raise SeedError(path, rec.line, "weight", f"weight {weight} is outside (0, 1]")
        weights.append(weight)
        total, first = totals.get(rec.values["region"], (0.0, rec.line))
        totals[rec.values["region"]] = (total + weight, first)
    for region, (total, first) in totals.items():
        if abs(total - 1.0) > 1e-6:
            raise SeedError(path, first, "weight", f"weights of region {_show(region)} sum to {total:.6f}, not 1")
    data: dict[str, list[object]] = {c.name: [rec.values[c.name] for rec in records] for c in table.columns}
    data["weight"] = list(weights)
    schema = {c.name: pl.Float64() if c.dtype == "DOUBLE" else pl.String() for c in table.columns}
    return pl.DataFrame(data, schema=schema)


# ------------------------------------------------------------------------- EIA-930 balancing-authority time zones

BA_TIME_ZONES_CSV: Path = SEEDS_DIR / "ba_time_zones.csv"
"""Time zone of every EIA-930 balancing authority, region and sub-BA (EIA's reference table, as IANA zones)."""

BA_TIME_ZONES_SEED = Table(  # not a warehouse table: the seed's columns, so the shared record reader checks it
    schema="seed",
    name="ba_time_zones",
    description="EIA-930 respondent time zones (seed file only)",
    primary_key=("respondent", "subba"),
    columns=(
        Column("respondent", "VARCHAR", "EIA-930 BA or region code (the parent BA for sub-BAs)"),
        Column("subba", "VARCHAR", "Sub-BA code, blank for BAs and regions"),
        Column("kind", "VARCHAR", "balancing_authority, region or sub_ba", nullable=False),
        Column("name", "VARCHAR", "EIA's name", nullable=False),
        Column("eia_time_zone", "VARCHAR", "EIA's Time Zone label", nullable=False),
        Column("time_zone", "VARCHAR", "IANA time zone of the respondent's local day", nullable=False),
        Column("note", "VARCHAR", "Why time_zone differs from EIA's label, where it does"),
        Column("source", "VARCHAR", "Where the row comes from", nullable=False),
    ),
)

SEED_KINDS = ("balancing_authority", "region", "sub_ba")
EIA_ZONE_LABELS: dict[str, tuple[str, ...]] = {
    "Eastern": ("America/New_York", "America/Toronto"),
    "Central": ("America/Chicago", "America/Winnipeg", "America/Regina"),
    "Mountain": ("America/Denver", "America/Boise", "America/Edmonton"),
    "Arizona": ("America/Phoenix",),
    "Pacific": ("America/Los_Angeles", "America/Vancouver", "America/Tijuana"),
    "Atlantic": ("America/Moncton",),
}
"""EIA's Time Zone label → the IANA zones a row with that label may name (same UTC offsets and DST rules)."""


def read_ba_time_zones(path: Path | str = BA_TIME_ZONES_CSV) -> pl.DataFrame:
    """Read and validate the BA time-zone seed: one row per (respondent, subba), real IANA zones only.

    Checks, per row: kind is one of SEED_KINDS and subba is blank exactly for BAs and regions; the IANA zone
    exists and agrees with EIA's label (EIA_ZONE_LABELS) unless `note` says why not; the key is unique; a
    sub-BA's parent is a BA of the file. Raises SeedError (file, line, field) on the first problem.

    Why the label and the zone may differ: EIA's Time Zone column is the clock a BA REPORTS on ("Arizona" is
    MST all year, used by some Mountain-time BAs; MISO reports on Eastern), while jevons' local day follows the
    civil clock of the BA's footprint. The few such rows (MISO, IPCO, WACM, EPE, PNM) carry the reason.
    """
    path = Path(path)
    # the key's subba is blank for BA rows, which the generic reader would reject as a blank key value
    table = Table(
        schema="seed",
        name="ba_time_zones",
        description="",
        primary_key=("respondent",),
        columns=BA_TIME_ZONES_SEED.columns,
    )
    records = _read_records(path, table)
    seen: dict[tuple[str, str], int] = {}
    for rec in records:
        v = rec.values
        if v["kind"] not in SEED_KINDS:
            allowed_kinds = ", ".join(SEED_KINDS)
            raise SeedError(path, rec.line, "kind", f"unknown kind {_show(v['kind'])}; allowed: {allowed_kinds}")
        if (v["kind"] == "sub_ba") != bool(v["subba"]):
            raise SeedError(path, rec.line, "subba", "subba is required for kind sub_ba and must be blank otherwise")
        key = (v["respondent"], v["subba"])
        if key in seen:
            raise SeedError(path, rec.line, "respondent", f"duplicate {key}: already on line {seen[key]}")
        seen[key] = rec.line
        try:
            ZoneInfo(v["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise SeedError(path, rec.line, "time_zone", f"{_show(v['time_zone'])} is not an IANA time zone") from None
        allowed = EIA_ZONE_LABELS.get(v["eia_time_zone"])
        if allowed is None:
            labels = ", ".join(EIA_ZONE_LABELS)
            raise SeedError(
                path, rec.line, "eia_time_zone", f"unknown EIA label {_show(v['eia_time_zone'])}; allowed: {labels}"
            )
        if v["time_zone"] not in allowed and not v["note"]:
            zones = ", ".join(allowed)
            raise SeedError(
                path,
                rec.line,
                "time_zone",
                f"{v['time_zone']} does not match EIA's {v['eia_time_zone']} ({zones}); give the reason in note",
            )
    parents = {r for (r, s) in seen if not s}
    for rec in records:
        if rec.values["subba"] and rec.values["respondent"] not in parents:
            parent = _show(rec.values["respondent"])
            raise SeedError(path, rec.line, "respondent", f"parent {parent} is not a BA row of the file")
    schema = {c.name: pl.String() for c in BA_TIME_ZONES_SEED.columns}
    return pl.DataFrame({n: [rec.values[n] for rec in records] for n in schema}, schema=schema)


@functools.cache
def ba_time_zones() -> dict[str, str]:
    """respondent → IANA zone for every EIA-930 BA and region, and 'PARENT/SUBBA' → zone for every sub-BA."""
    frame = read_ba_time_zones()
    return {
        (r if not s else f"{r}/{s}"): tz for r, s, tz in frame.select("respondent", "subba", "time_zone").iter_rows()
    }
