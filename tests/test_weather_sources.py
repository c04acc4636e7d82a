"""NOAA weather files: nClimDiv degree days and zone daily temperatures, on the real files and small bad ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.sources.noaa import climdiv, zone_daily
from flows.sources.noaa.source import DAILY_TABLE, DEGREE_DAYS_TABLE, UnknownWeatherFileError, weather_from_dir
from warehouse.errors import JevonsInputError
from warehouse.tables.weather import DEGREE_DAYS_MONTHLY, STATE_CODES, WEATHER_DAILY

pytestmark = pytest.mark.needs_shared


@pytest.fixture(scope="module")
def weather_dir(shared_data: Path) -> Path:
    return shared_data / "weather"


@pytest.fixture(scope="module")
def result(weather_dir: Path):  # type: ignore[no-untyped-def]
    return weather_from_dir(weather_dir)


def test_hdd_file_parses_every_record(weather_dir: Path) -> None:
    path = weather_dir / "noaa_climdiv" / "climdiv-hddcst-v1.0.0-20250905"
    parsed = climdiv.parse_climdiv_file(path)
    assert parsed.element == "hdd_degf_days"
    # 8,223 records: 48 states + 10 regions/US48 kept at 131 years each, AK 101 years, 4 aggregates skipped.
    assert parsed.skipped_area_codes == ("121", "122", "123", "124")
    assert parsed.frame.height == (48 + 10) * 131 * 12 + 101 * 12
    assert set(STATE_CODES.values()) <= set(parsed.frame["area"].unique().to_list())
    # Maine January 2024 and Texas August 2024 as written in the file.
    frame = parsed.frame
    assert frame.filter((pl.col("area") == "ME") & (pl.col("month") == date(2024, 1, 1)))["value"][0] == 1267.0
    cdd = climdiv.parse_climdiv_file(weather_dir / "noaa_climdiv" / "climdiv-cddcst-v1.0.0-20250905").frame
    assert cdd.filter((pl.col("area") == "TX") & (pl.col("month") == date(2024, 8, 1)))["value"][0] == 659.0


def test_unpublished_months_are_null_not_zero(result) -> None:  # type: ignore[no-untyped-def]
    dd = result.frames[DEGREE_DAYS_TABLE]
    assert dd.schema == DEGREE_DAYS_MONTHLY.polars_schema(exclude=("loaded_at",))
    late = dd.filter(pl.col("month") >= date(2025, 9, 1))
    assert late.is_empty()  # Sep-Dec 2025: every element unpublished, so no row at all
    aug = dd.filter(pl.col("month") == date(2025, 8, 1))
    assert aug.height == 48 + 10 + 2  # states, regions, US48, AK, HI (temperature only)
    assert aug.filter(~pl.col("area").is_in(["HI", "AK"]))["hdd_degf_days"].null_count() == 0
    # A real zero: Texas has no heating degree days in August, and zero stays zero.
    assert aug.filter(pl.col("area") == "TX")["hdd_degf_days"][0] == 0.0
    # Hawaii and Alaska have temperature but NOAA publishes no degree days for them (-9999 every month).
    for area in ("HI", "AK"):
        rows = dd.filter(pl.col("area") == area)
        assert rows.height > 0 and rows["hdd_degf_days"].null_count() == rows.height
    # The -9999 count: AK's 101 years x 12, plus Sep-Dec 2025 for the 58 other stored areas.
    hdd_warning = next(w for w in result.warnings if w.code == "unpublished_months" and "hddcst" in w.subject)
    assert hdd_warning.message.startswith(f"{101 * 12 + 58 * 4} values")


def test_state_codes_are_alphabetical_contiguous_states() -> None:
    assert STATE_CODES["001"] == "AL" and STATE_CODES["044"] == "VA" and STATE_CODES["048"] == "WY"
    assert STATE_CODES["041"] == "TX" and STATE_CODES["004"] == "CA" and STATE_CODES["030"] == "NY"
    assert len(set(STATE_CODES.values())) == 48 and "DC" not in STATE_CODES.values()


def test_zone_daily_real_files(result) -> None:  # type: ignore[no-untyped-def]
    daily = result.frames[DAILY_TABLE]
    assert daily.schema == WEATHER_DAILY.polars_schema(exclude=("loaded_at",))
    assert daily.select("iso", "zone", "date").is_duplicated().sum() == 0
    zones = daily.group_by("iso").agg(pl.col("zone").n_unique()).sort("iso")
    assert dict(zones.iter_rows()) == {"CAISO": 3, "ERCOT": 6, "PJM": 8}
    span = daily.select(pl.col("date").min().alias("first"), pl.col("date").max().alias("last")).row(0)
    assert span == (date(2022, 1, 1), date(2025, 12, 31))
    # 17 zones x 1,461 days, less ERCOT Northeast's absent 2022-05-31.
    assert daily.height == 17 * 1461 - 1
    blank = daily.filter(pl.col("tmean_c").is_null())
    assert blank.select("iso", "zone", "date").rows() == [("ERCOT", "Northeast", date(2023, 1, 9))]
    codes = {(w.code, w.subject) for w in result.warnings}
    assert ("blank_values", "zone_temp_daily") in codes and ("missing_days", "ERCOT") in codes
    row = daily.filter((pl.col("zone") == "Houston") & (pl.col("date") == date(2023, 1, 2)))
    assert row.select("tmax_c", "tmin_c", "tmean_c").row(0) == (24.4, 21.7, pytest.approx(23.05))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


STATIONS = (
    "iso,zone,station_id,weight,station_name\nERCOT,North,S1,1.0,a\nNEISO,North,S2,1.0,b\nNEISO,Boston,S3,1.0,c\n"
)


def test_overlapping_zone_files_keep_the_later_vintage(tmp_path: Path) -> None:
    _write(tmp_path / "stations.csv", STATIONS)
    _write(tmp_path / "ercot_a.csv", "date,zone,tmax_c,tmin_c\n2022-01-01,North,10,0\n2022-01-02,North,11,1\n")
    _write(tmp_path / "ercot_b.csv", "date,zone,tmax_c,tmin_c\n2022-01-02,North,12,2\n2022-01-03,North,13,3\n")
    _write(tmp_path / "ercot_c.csv", "date,zone,tmax_c,tmin_c\n2022-01-01,North,10,0\n")
    res = weather_from_dir(tmp_path)
    daily = res.frames[DAILY_TABLE]
    assert daily["iso"].unique().to_list() == ["ERCOT"]  # ambiguous 'North', settled by the file-name prefix
    assert daily.select("date", "tmax_c").rows() == [
        (date(2022, 1, 1), 10.0),
        (date(2022, 1, 2), 12.0),
        (date(2022, 1, 3), 13.0),
    ]
    revised = [w for w in res.warnings if w.code == "revised_values"]
    assert len(revised) == 1 and revised[0].message.startswith("1 zone-days differ")
    assert daily.filter(pl.col("date") == date(2022, 1, 2))["source"][0] == "zone_temp_daily:ercot_b.csv"


def test_bad_inputs_name_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "stations.csv", STATIONS)
    _write(tmp_path / "x.csv", "date,zone,tmax_c,tmin_c\n2022-01-01,Boston,1,0\n2022-01-02,Boston,warm,0\n")
    with pytest.raises(zone_daily.ZoneFileError, match=r"x\.csv, line 3, column 'tmax_c': 'warm' is not a number"):
        weather_from_dir(tmp_path)
    (tmp_path / "x.csv").unlink()
    _write(tmp_path / "notes.txt", "hello\n")
    with pytest.raises(UnknownWeatherFileError, match=r"notes\.txt: not a recognised weather file.*nClimDiv"):
        weather_from_dir(tmp_path)


def test_bad_climdiv_record_names_the_line(tmp_path: Path) -> None:
    good = "0010251895   717.   800.   373.   115.    34.     0.     0.     0.     0.   234.   377.   646.   \n"
    bad = "0010251896   717.   800.   373.   115.    34.     0.     0.     0.     0.   234.   377.      \n"
    with pytest.raises(climdiv.ClimdivFileError, match="f, line 2: record is"):
        climdiv.parse_climdiv_text(good + bad, "f")
    mixed = good + good.replace("0010251895", "0010261895")
    with pytest.raises(climdiv.ClimdivFileError, match="element code"):
        climdiv.parse_climdiv_text(mixed, "f")
    with pytest.raises(JevonsInputError):
        climdiv.parse_climdiv_text(good.replace("   800.", "   8x0."), "f")


def test_frames_load_idempotently_into_the_warehouse(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from warehouse.load import upsert
    from warehouse.migrations import apply_migrations
    from warehouse.tables.weather import DEGREE_DAYS_MONTHLY, WEATHER_DAILY, WEATHER_MIGRATION

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert WEATHER_MIGRATION in apply_migrations(con)
    for table, name in ((DEGREE_DAYS_MONTHLY, DEGREE_DAYS_TABLE), (WEATHER_DAILY, DAILY_TABLE)):
        frame = result.frames[name]
        first = upsert(con, table, frame, run_id="r1", source="noaa_weather_files")
        assert (first.inserted, first.updated) == (frame.height, 0)
        again = upsert(con, table, frame, run_id="r2", source="noaa_weather_files")
        assert (again.inserted, again.updated) == (0, 0)
    nulls = con.sql(
        "SELECT count(*) FROM core.weather_degree_days_monthly WHERE area = 'US48' AND hdd_degf_days IS NULL"
    ).fetchall()
    assert nulls == [(0,)]
    con.close()
