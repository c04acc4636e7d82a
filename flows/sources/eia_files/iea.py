"""IEA *Energy and AI* (2025) data annex → core.datacentre_electricity rows, and the curated seed of them.

The shipped seed `warehouse/seeds/datacentre_electricity.csv` is the transcription users load (no xlsx reader
needed at run time); `read_annex` reads the annex workbook itself (sheets "World Data" and "Regional Data",
as published with the report, https://www.iea.org/reports/energy-and-ai) so a test can prove the seed equals
it cell for cell.

Annex layout: World Data has a scenario row (Base, Lift-Off, High Efficiency, Headwinds over the 2030 and
2035* columns; 2020-2024 are history) and a year row, then four blocks (Installed capacity (GW), Power usage
effectiveness, Load factor (%), Electricity consumption (TWh)) of rows Total, Hyperscale, Colocation and
service provider, Enterprise; the capacity and consumption blocks continue with an IT row and the same three
segments for IT equipment. Regional Data has blocks per measure (Total / IT installed capacity, Power usage
effectiveness, Load factor, Total / IT electricity consumption) with region rows and a Base Case 2030 column;
a spacer column of 0 or #REF! sits between 2024 and 2030 and is ignored. World appears in both sheets; the
two must agree (checked), and World rows are taken from World Data, which has the segments.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.sources.eia_files.errors import ElectricityFileError
from warehouse.registry import table

SOURCE = "IEA Energy and AI (2025)"
SEED_CSV = Path(__file__).resolve().parents[3] / "warehouse" / "seeds" / "datacentre_electricity.csv"
TABLE = "core.datacentre_electricity"
SEGMENTS = {
    "Total": "total",
    "Hyperscale": "hyperscale",
    "Colocation and service provider": "colocation_and_service_provider",
    "Enterprise": "enterprise",
}
SCENARIOS = {
    "Base": "base",
    "Base Case": "base",
    "Lift-Off": "lift_off",
    "High Efficiency": "high_efficiency",
    "Headwinds": "headwinds",
}
WORLD_BLOCKS = {
    "Installed capacity (GW)": ("capacity_gw", "it_capacity_gw"),
    "Power usage effectiveness": ("pue", None),
    "Load factor (%)": ("load_factor_pct", None),
    "Electricity consumption (TWh)": ("electricity_twh", "it_electricity_twh"),
}
REGIONAL_BLOCKS = {
    "Total installed capacity (GW)": "capacity_gw",
    "IT installed capacity (GW)": "it_capacity_gw",
    "Power usage effectiveness": "pue",
    "Load factor (%)": "load_factor_pct",
    "Total electricity consumption (TWh)": "electricity_twh",
    "IT electricity consumption (TWh)": "it_electricity_twh",
}
KEY = ["source", "region", "segment", "scenario", "year"]


def _schema() -> dict[str, pl.DataType]:
    return dict(table(TABLE).polars_schema())


def _cells(path: Path, sheet: str) -> list[list[str | None]]:
    import fastexcel

    try:
        frame = fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except Exception as exc:  # fastexcel's own error hierarchy
        raise ElectricityFileError(path, f"cannot read sheet {sheet!r} ({type(exc).__name__}: {exc})") from None
    return [[None if v is None or str(v).strip() == "" else str(v).strip() for v in row] for row in frame.rows()]


def _columns(
    path: Path, sheet: str, scen_row: list[str | None], year_row: list[str | None]
) -> dict[int, tuple[str, int]]:
    """Sheet column → (scenario, year) for every year column; history columns precede the first scenario."""
    out: dict[int, tuple[str, int]] = {}
    scenario = "historical"
    for i in range(1, len(year_row)):  # a loop over header columns
        if scen_row[i] is not None:
            if scen_row[i] not in SCENARIOS:
                raise ElectricityFileError(
                    path, f"sheet {sheet}: unknown scenario {scen_row[i]!r}", column=f"column {i + 1}"
                )
            scenario = SCENARIOS[scen_row[i] or ""]
        year = (year_row[i] or "").rstrip("*")
        if year.isdigit():
            out[i] = (scenario, int(year))
    return out


def _value(path: Path, sheet: str, line: int, col: int, cell: str | None) -> float | None:
    if cell is None:
        return None
    try:
        return float(cell)
    except ValueError:
        raise ElectricityFileError(
            path, f"sheet {sheet}: not a number {cell!r}", line=line, column=f"column {col + 1}"
        ) from None


def _world(path: Path) -> list[dict[str, object]]:
    sheet = "World Data"
    cells = _cells(path, sheet)
    cols = _columns(path, sheet, cells[0], cells[1])
    records: dict[tuple[str, str, int], dict[str, object]] = {}
    measure: str | None = None
    it_part = False
    for line, row in enumerate(cells[2:], start=3):  # ~30 annex rows; not a data hot path
        label = row[0]
        if label in WORLD_BLOCKS:
            measure, it_part = label, False
            continue
        if label == "IT" and measure is not None:
            it_part = True
            segment = "total"
        elif label in SEGMENTS and measure is not None:
            segment = SEGMENTS[label]
        else:
            continue
        column = WORLD_BLOCKS[measure][1 if it_part else 0]
        if column is None:
            raise ElectricityFileError(path, f"sheet {sheet}: an IT row in block {measure!r}", line=line)
        for i, (scenario, year) in cols.items():
            rec = records.setdefault(
                (segment, scenario, year), {"region": "World", "segment": segment, "scenario": scenario, "year": year}
            )
            rec[column] = _value(path, sheet, line, i, row[i])
    return list(records.values())


def _regional(path: Path) -> list[dict[str, object]]:
    sheet = "Regional Data"
    cells = _cells(path, sheet)
    records: dict[tuple[str, str, int], dict[str, object]] = {}
    cols: dict[int, tuple[str, int]] = {}
    measure: str | None = None
    for line, row in enumerate(cells, start=1):
        label = row[0]
        if label is None and any(c in SCENARIOS for c in row if c):
            scen_row = row
            continue
        if label is None and any((c or "").rstrip("*").isdigit() for c in row[1:]):
            cols = _columns(path, sheet, scen_row, row)
            continue
        if label in REGIONAL_BLOCKS:
            measure = label
            continue
        if label is None or measure is None or not cols:
            continue
        if all(row[i] is None for i in cols):  # a section title row (e.g. "Electricity consumption (TWh)")
            continue
        for i, (scenario, year) in cols.items():
            rec = records.setdefault(
                (label, scenario, year), {"region": label, "segment": "total", "scenario": scenario, "year": year}
            )
            rec[REGIONAL_BLOCKS[measure]] = _value(path, sheet, line, i, row[i])
    return list(records.values())


def _frame(records: list[dict[str, object]]) -> pl.DataFrame:
    schema = _schema()
    rows = [{"source": SOURCE, **{c: None for c in schema if c not in KEY}, **r} for r in records]
    return pl.DataFrame(rows, schema=schema).sort(KEY)


def read_annex(path: Path | str) -> pl.DataFrame:
    """The annex workbook as core.datacentre_electricity rows (World from World Data, regions from Regional)."""
    path = Path(path)
    world = _frame(_world(path))
    regional = _frame(_regional(path))
    overlap = regional.filter(pl.col("region") == "World")
    check = overlap.join(world, on=KEY, how="left", suffix="_world")
    for column in ("capacity_gw", "it_capacity_gw", "pue", "load_factor_pct", "electricity_twh", "it_electricity_twh"):
        bad = check.filter(pl.col(column).is_not_null() & (pl.col(column) != pl.col(f"{column}_world")))
        if bad.height:
            raise ElectricityFileError(
                path, f"World {column} differs between World Data and Regional Data: {bad.head(1).rows()}"
            )
    return pl.concat([world, regional.filter(pl.col("region") != "World")]).sort(KEY)


def read_seed(path: Path | str = SEED_CSV) -> pl.DataFrame:
    """The shipped seed as core.datacentre_electricity rows (typed by the table registry)."""
    path = Path(path)
    schema = _schema()
    try:
        frame = pl.read_csv(path, schema=schema)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise ElectricityFileError(path, f"cannot read the seed ({str(exc).splitlines()[0]})") from None
    dup = frame.select(pl.struct(KEY).is_duplicated()).to_series()
    if dup.any():
        raise ElectricityFileError(
            path, "duplicate key (source, region, segment, scenario, year)", line=int(dup.arg_true()[0]) + 2
        )
    return frame.sort(KEY)
