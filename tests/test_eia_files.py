"""Electricity files (issue 14): layout detection, API exports, EIA-930 bulk files, EIA-861M, vintages.

The bulk-file tests write small files in EIA's published six-month layout: column names and formats as on the
EIA-930 Grid Monitor download page (https://www.eia.gov/electricity/gridmonitor/about, "Six-Month Files") and
as mapped in PUDL's package_data/eia930/column_maps/{balance,subregion}.csv: US dates with a 12-hour clock,
quoted numbers with thousands separators, hour-ending local and UTC columns, imputed/adjusted demand columns.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.sources.eia_files.api_export import read_path
from flows.sources.eia_files.detect import (
    ACCEPTED,
    API_REGION,
    API_RETAIL,
    API_SUB_BA,
    EIA861M,
    EIA930_BALANCE,
    EIA930_SUBREGION,
    detect,
    walk,
)
from flows.sources.eia_files.eia861m import read_sales_revenue
from flows.sources.eia_files.eia930_bulk import read_bulk
from flows.sources.eia_files.errors import ElectricityFileError
from flows.sources.eia_files.load import HOURLY_TABLE, MONTHLY_TABLE, load_files
from flows.sources.eia_files.vintages import Vintage, merge_vintages

BALANCE_HEADER = (
    "Balancing Authority,Data Date,Hour Number,Local Time at End of Hour,UTC Time at End of Hour,"
    "Demand Forecast (MW),Demand (MW),Net Generation (MW),Total Interchange (MW),Sum(Valid DIBAs) (MW),"
    "Demand (MW) (Imputed),Net Generation (MW) (Imputed),Total Interchange (MW) (Imputed),"
    "Demand (MW) (Adjusted),Net Generation (MW) (Adjusted),Total Interchange (MW) (Adjusted),Region"
)
BALANCE_ROWS = [
    'PJM,01/01/2024,1,01/01/2024 1:00:00 AM,01/01/2024 6:00:00 AM,"85,000","84,123","90,500","6,377","6,377",,,,"84,123","90,500","6,377",MIDA',  # noqa: E501
    'PJM,01/01/2024,2,01/01/2024 2:00:00 AM,01/01/2024 7:00:00 AM,"83,000",,"89,000","5,000","5,000","82,000",,,"82,000","89,000","5,000",MIDA',  # noqa: E501
    'ERCO,01/01/2024,1,01/01/2024 1:00:00 AM,01/01/2024 7:00:00 AM,"41,000","40,010","40,500",490,490,,,,"40,010","40,500",490,TEX',  # noqa: E501
    'ERCO,01/01/2024,12,01/01/2024 12:00:00 PM,01/01/2024 6:00:00 PM,"45,000","44,999","45,100",101,101,,,,"44,999","45,100",101,TEX',  # noqa: E501
]
SUBREGION_HEADER = (
    "Balancing Authority,Data Date,Hour Number,Sub-Region,Local Time at End of Hour,UTC Time at End of Hour,Demand (MW)"
)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_balance_file_parsed_with_every_quirk(tmp_path: Path) -> None:
    path = _write(tmp_path / "EIA930_BALANCE_2024_Jan_Jun.csv", BALANCE_HEADER, BALANCE_ROWS)
    found = detect(path)
    assert found.layout == EIA930_BALANCE
    frame, stats = read_bulk(found)
    assert stats.rows_in == 4 and stats.duplicates == 0
    assert frame.height == 16  # 4 rows x D, DF, NG, TI
    got = {(r["respondent"], r["type"], r["period_utc"]): r["value_mwh"] for r in frame.iter_rows(named=True)}
    six, seven = datetime(2024, 1, 1, 6, tzinfo=UTC), datetime(2024, 1, 1, 7, tzinfo=UTC)
    assert got[("PJM", "D", six)] == 84_123.0  # thousands separator removed; raw Demand (MW), not Adjusted
    assert got[("PJM", "D", seven)] is None  # blank raw demand stays null even though Imputed has 82,000
    assert got[("PJM", "DF", seven)] == 83_000.0
    assert got[("ERCO", "TI", seven)] == 490.0
    assert got[("ERCO", "D", datetime(2024, 1, 1, 18, tzinfo=UTC))] == 44_999.0  # 6:00:00 PM = 18:00 UTC
    assert set(frame["subba"].cast(pl.String)) == {""}


def test_twelve_am_is_midnight(tmp_path: Path) -> None:
    row = 'PJM,01/01/2024,19,12/31/2023 7:00:00 PM,01/01/2024 12:00:00 AM,1,"1,000",1,1,1,,,,1,1,1,MIDA'
    frame, _ = read_bulk(detect(_write(tmp_path / "b.csv", BALANCE_HEADER, [row])))
    assert frame["period_utc"].unique().to_list() == [datetime(2024, 1, 1, 0, tzinfo=UTC)]


def test_subregion_file(tmp_path: Path) -> None:
    rows = [
        'PJM,01/01/2024,1,DOM,01/01/2024 1:00:00 AM,01/01/2024 6:00:00 AM,"10,512"',
        "PJM,01/01/2024,1,AE,01/01/2024 1:00:00 AM,01/01/2024 6:00:00 AM,",
    ]
    found = detect(_write(tmp_path / "EIA930_SUBREGION_2024_Jan_Jun.csv", SUBREGION_HEADER, rows))
    assert found.layout == EIA930_SUBREGION
    frame, _ = read_bulk(found)
    assert frame.select(pl.col(c).cast(pl.String) for c in ("respondent", "subba", "type")).rows() == [
        ("PJM", "DOM", "D"),
        ("PJM", "AE", "D"),
    ]
    assert frame["value_mwh"].to_list() == [10_512.0, None]


def test_bad_number_in_balance_file_names_file_line_column(tmp_path: Path) -> None:
    rows = list(BALANCE_ROWS)
    rows[2] = rows[2].replace('"40,010"', '"40,0x0"', 1)
    path = _write(tmp_path / "EIA930_BALANCE_2024_Jan_Jun.csv", BALANCE_HEADER, rows)
    with pytest.raises(ElectricityFileError) as err:
        read_bulk(detect(path))
    assert err.value.line == 4 and err.value.column == "Demand (MW)"
    assert str(path) in str(err.value) and "40,0x0" in str(err.value)
    assert err.value.exit_code == 2


def test_bad_time_in_balance_file(tmp_path: Path) -> None:
    rows = [BALANCE_ROWS[0].replace("01/01/2024 6:00:00 AM", "2024-01-01 06:00", 1)]
    with pytest.raises(ElectricityFileError) as err:
        read_bulk(detect(_write(tmp_path / "b.csv", BALANCE_HEADER, rows)))
    assert (err.value.line, err.value.column) == (2, "UTC Time at End of Hour")


def test_truncated_balance_file(tmp_path: Path) -> None:
    rows = [*BALANCE_ROWS[:2], "PJM,01/01/2024,3,01/01/2024 3:00:00 AM"]  # download cut mid-row
    with pytest.raises(ElectricityFileError) as err:
        read_bulk(detect(_write(tmp_path / "EIA930_BALANCE_2024_Jan_Jun.csv", BALANCE_HEADER, rows)))
    assert err.value.line == 4 and err.value.column == "UTC Time at End of Hour"


def test_unknown_file_names_it_and_the_layouts(tmp_path: Path) -> None:
    path = _write(tmp_path / "data" / "notes.csv", "a,b,c", ["1,2,3"])
    with pytest.raises(ElectricityFileError) as err:
        walk(tmp_path)
    message = str(err.value)
    assert str(path) in message
    for words in ACCEPTED.values():
        assert words in message
    other = tmp_path / "x" / "readme.txt"
    other.parent.mkdir()
    other.write_text("hello")
    with pytest.raises(ElectricityFileError, match=r"readme\.txt"):
        detect(other)


def test_walk_is_recursive_sorted_and_skips_hidden(tmp_path: Path) -> None:
    _write(tmp_path / "b" / "EIA930_BALANCE_2024_Jul_Dec.csv", BALANCE_HEADER, BALANCE_ROWS[:1])
    _write(tmp_path / "a" / "renamed.csv", BALANCE_HEADER, BALANCE_ROWS[1:2])  # name lies; header decides
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    found, hidden = walk(tmp_path)
    assert [f.path.relative_to(tmp_path).as_posix() for f in found] == [
        "a/renamed.csv",
        "b/EIA930_BALANCE_2024_Jul_Dec.csv",
    ]
    assert [f.layout for f in found] == [EIA930_BALANCE, EIA930_BALANCE]
    assert hidden == [tmp_path / ".DS_Store"]


def test_json_api_body_and_row_list(tmp_path: Path) -> None:
    rows = [
        {
            "period": "2024-01-01T05",
            "subba": "DOM",
            "subba-name": "Dominion",
            "parent": "PJM",
            "parent-name": "PJM",
            "value": "10512",
            "value-units": "megawatthours",
        },
        {
            "period": "2024-01-01T06",
            "subba": "DOM",
            "subba-name": "Dominion",
            "parent": "PJM",
            "parent-name": "PJM",
            "value": None,
            "value-units": "megawatthours",
        },
    ]
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"response": {"total": "2", "data": rows}, "apiVersion": "2.1.8"}))
    bare = tmp_path / "rows.json"
    bare.write_text(json.dumps(rows))
    a, b = read_path(body), read_path(bare)
    assert detect(body).layout == API_SUB_BA
    assert_frame_equal(a.frame, b.frame)
    assert a.frame.select(pl.col("respondent").cast(pl.String), pl.col("subba").cast(pl.String)).row(0) == (
        "PJM",
        "DOM",
    )
    assert a.frame["value_mwh"].to_list() == [10512.0, None]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps({"response": {"data": rows}})[:-30])
    with pytest.raises(ElectricityFileError, match="not valid JSON"):
        detect(cut)


def test_api_csv_bad_value_and_unit(tmp_path: Path) -> None:
    header = "period,respondent,respondent-name,type,type-name,value,value-units"
    ok = "2024-01-01T00,PJM,PJM,D,Demand,90000,megawatthours"
    path = _write(tmp_path / "r.csv", header, [ok, "2024-01-01T01,PJM,PJM,D,Demand,9O000,megawatthours"])
    with pytest.raises(ElectricityFileError) as err:
        read_path(path)
    assert (err.value.line, err.value.column) == (3, "value")
    path = _write(tmp_path / "u.csv", header, [ok.replace("megawatthours", "gigawatthours")])
    with pytest.raises(ElectricityFileError) as err:
        read_path(path)
    assert err.value.column == "value-units"
    path = _write(tmp_path / "t.csv", header, [ok, "2024-01-01T01,PJM"])  # truncated last line
    with pytest.raises(ElectricityFileError) as err:
        read_path(path)
    assert err.value.line == 3 and err.value.column == "type"


# ----------------------------------------------------------------------------------------- real files


@pytest.mark.needs_shared
def test_real_region_data_row_counts_and_nulls(eia_real_dir: Path) -> None:
    counts = {}
    for name in ("PJM_D_2021-2025", "ERCO_D_2021-2025", "CISO_D_2021-2025", "US48_D_2019-2025"):
        path = eia_real_dir / "region-data" / f"region-data_{name}.csv"
        assert detect(path).layout == API_REGION
        rows = read_path(path)
        counts[name.split("_")[0]] = (rows.frame.height, rows.frame["value_mwh"].null_count())
        assert rows.stats.bad_periods == 0 and rows.stats.duplicates == 0
    assert counts == {"PJM": (43_824, 69), "ERCO": (43_824, 0), "CISO": (43_824, 10), "US48": (55_306, 0)}


@pytest.mark.needs_shared
def test_real_files_parse_twice_identically(eia_real_dir: Path) -> None:
    one, two = load_files(eia_real_dir), load_files(eia_real_dir)
    assert set(one.result.frames) == {HOURLY_TABLE, MONTHLY_TABLE}
    for name in one.result.frames:
        assert_frame_equal(one.result.frames[name], two.result.frames[name])
    assert one.result.warnings == two.result.warnings
    assert one.result.frames[HOURLY_TABLE].height == 3 * 43_824 + 55_306


@pytest.mark.needs_shared
def test_real_861m_spreadsheet(eia_real_dir: Path) -> None:
    found = detect(eia_real_dir / "eia861m" / "sales_revenue.xlsx")
    assert found.layout == EIA861M
    sheet = read_sales_revenue(found)
    va = sheet.frame.filter(pl.col("state") == "VA", pl.col("month") == date(2024, 1, 1))
    by_sector = {r["sector"]: r for r in va.iter_rows(named=True)}
    assert set(by_sector) == {"RES", "COM", "IND", "TRA", "ALL"}
    assert by_sector["ALL"]["sales_mwh"] == 12_132_902.0
    assert by_sector["ALL"]["revenue_usd"] == pytest.approx(1_335_603.2 * 1_000)
    assert by_sector["ALL"]["customers"] == 4_090_295
    status = sheet.status.filter(pl.col("state") == "VA", pl.col("month") == date(2024, 1, 1))["data_status"]
    assert status.to_list() == ["Preliminary"]
    assert sheet.frame["month"].min() == date(2010, 1, 1) and sheet.frame["month"].max() == date(2025, 4, 1)
    assert detect(eia_real_dir / "retail-sales" / "retail-sales_states_ALL_2001-2025.csv").layout == API_RETAIL


@pytest.mark.needs_shared
def test_revision_rule_on_real_virginia_rows(eia_real_dir: Path, tmp_path: Path) -> None:
    """The later API export (data to 2025-09) revises the preliminary spreadsheet (data to 2025-04)."""
    folder = tmp_path / "files"
    folder.mkdir()
    sheet = shutil.copy(eia_real_dir / "eia861m" / "sales_revenue.xlsx", folder / "sales_revenue.xlsx")
    api = shutil.copy(eia_real_dir / "retail-sales" / "retail-sales_states_ALL_2001-2025.csv", folder / "retail.csv")
    os.utime(api, (0, 0))  # the API file is OLDER on disk: reach decides before the file date
    loaded = load_files(folder)
    retail = loaded.result.frames[MONTHLY_TABLE]
    va = retail.filter(pl.col("state") == "VA", pl.col("month") == date(2024, 1, 1), pl.col("sector") == "ALL")
    assert va["sales_mwh"].item() == pytest.approx(12_313_393.0, abs=1.0)
    revised = [w for w in loaded.result.warnings if w.code == "values_revised" and "sales_mwh" in w.message]
    assert len(revised) == 1
    assert str(sheet) in revised[0].message and str(api) in revised[0].message
    assert revised[0].message.index(str(sheet)) < revised[0].message.index(str(api))  # from -> to
    n_revised = int(revised[0].message.split(" ", 1)[0])
    assert 0 < n_revised < 1_000  # publication rounding (597,803 vs 597,802.7 MWh) is not a revision


def _part(name: str, values: list[float | None], reaches: date, mtime: int) -> Vintage:
    frame = pl.DataFrame({"k": ["a", "b", "c"][: len(values)], "v": values}, schema={"k": pl.String, "v": pl.Float64})
    return Vintage(name, frame, reaches, datetime.fromtimestamp(mtime, tz=UTC))


def test_vintage_rule_reach_then_file_date() -> None:
    old = _part("old.csv", [1.0, 2.0, 3.0], date(2024, 6, 1), 200)
    new = _part("new.csv", [1.0, 2.5, None], date(2024, 12, 1), 100)
    merged, warnings = merge_vintages("t", [new, old], ["k"], {"v": 0.0})
    assert merged.rows() == [("a", 1.0), ("b", 2.5), ("c", 3.0)]  # identical merge; later reach wins; null keeps
    assert [w.message.split(" ")[0] for w in warnings] == ["1"]
    assert "old.csv" in warnings[0].message and "new.csv" in warnings[0].message
    tie_a = _part("a.csv", [1.0], date(2024, 6, 1), 100)
    tie_b = _part("b.csv", [9.0], date(2024, 6, 1), 300)
    merged, warnings = merge_vintages("t", [tie_b, tie_a], ["k"], {"v": 0.0})
    assert merged.rows() == [("a", 9.0)]  # same reach: the newer file date wins
    assert "a.csv were replaced by the later vintage b.csv" in warnings[0].message


def test_duplicate_rows_in_one_file_are_a_warning(tmp_path: Path) -> None:
    header = "period,respondent,respondent-name,type,type-name,value,value-units"
    row = "2024-01-01T00,PJM,PJM,D,Demand,{},megawatthours"
    _write(tmp_path / "r.csv", header, [row.format(1), row.format(2)])
    loaded = load_files(tmp_path)
    assert loaded.result.frames[HOURLY_TABLE]["value_mwh"].to_list() == [2.0]
    assert [w.code for w in loaded.result.warnings] == ["duplicate_rows"]
