"""Issue 14 on the real files (../shared/data/eia_real, read in place through conftest's fixtures).

1. Local days on DST days: the sums the transform gives equal the sums computed by hand in phase 1 AND an
   independent computation here (csv + zoneinfo, no polars), for the 23- and 25-hour days of PJM, ERCO, CISO.
2. The `daily` flow with `--electricity-from` (and the real price folder): the electricity marts fill for PJM,
   ERCO, CISO, US48 and the states; the sentinel hours are kept out of marts.electricity_demand_daily and
   listed in ops.data_quality; the VA revision is recorded in ops.warnings; the Jevons check gives real verdicts
   that name PJM as DOM's stand-in, the data that ends early and the IEA context; a re-run inserts and updates
   nothing. (An unknown file and a bad BALANCE number: tests/test_bad_input.py, exit 2 with file, line, column.)
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from flows.daily import RunSummary, daily
from flows.sources.eia_files.load import HOURLY_TABLE, load_files
from transforms.electricity import ImpactConfig, hourly_to_local_daily
from transforms.electricity_quality import screen_hourly

HAND_SUMS_MWH = {
    # phase 1's hand computation: the hours whose start (period - 1 h) falls on the local date
    ("PJM", date(2024, 11, 3)): (25, 1_891_620.0),
    ("ERCO", date(2024, 3, 10)): (23, 941_195.0),
    ("ERCO", date(2024, 11, 3)): (25, 1_287_715.0),
    ("CISO", date(2024, 3, 10)): (23, 450_959.0),
    ("CISO", date(2024, 11, 3)): (25, 545_541.0),
}
ZONES = {"PJM": "America/New_York", "ERCO": "America/Chicago", "CISO": "America/Los_Angeles"}


def _by_hand(folder: Path, respondent: str, day: date) -> tuple[int, float]:
    """(reported hours, MWh) of one local day straight from the CSV, with zoneinfo: no project code."""
    zone = ZoneInfo(ZONES[respondent])
    hours, total = 0, 0.0
    path = folder / "region-data" / f"region-data_{respondent}_D_2021-2025.csv"
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["respondent"] != respondent or row["type"] != "D" or not row["value"].strip():
                continue
            end = datetime.strptime(row["period"], "%Y-%m-%dT%H").replace(tzinfo=UTC)
            if (end - timedelta(hours=1)).astimezone(zone).date() == day:
                hours += 1
                total += float(row["value"])
    return hours, total


@pytest.fixture(scope="module")
def local_days(eia_real_dir: Path) -> pl.DataFrame:
    hourly = load_files(eia_real_dir).result.frames[HOURLY_TABLE]
    cleaned, _ = screen_hourly(hourly)
    return hourly_to_local_daily(cleaned)


def _day(daily_frame: pl.DataFrame, respondent: str, day: date) -> dict[str, object]:
    rows = daily_frame.filter(
        (pl.col("respondent") == respondent) & (pl.col("subba") == "") & (pl.col("date_local") == day)
    )
    assert rows.height == 1, (respondent, day)
    return rows.row(0, named=True)


@pytest.mark.needs_shared
@pytest.mark.parametrize(("respondent", "day"), list(HAND_SUMS_MWH))
def test_dst_local_days_match_hand_sums(
    local_days: pl.DataFrame, eia_real_dir: Path, respondent: str, day: date
) -> None:
    hours, expected = HAND_SUMS_MWH[(respondent, day)]
    row = _day(local_days, respondent, day)
    assert row["hours_in_day"] == hours and row["hours_reported"] == hours
    assert row["value_mwh"] == pytest.approx(expected, abs=0.5)
    assert _by_hand(eia_real_dir, respondent, day) == (hours, pytest.approx(expected, abs=0.5))
    assert row["time_zone"] == ZONES[respondent]


@pytest.mark.needs_shared
def test_pjm_spring_day_with_one_hour_is_dropped(local_days: pl.DataFrame, eia_real_dir: Path) -> None:
    row = _day(local_days, "PJM", date(2024, 3, 10))
    assert (row["hours_in_day"], row["hours_reported"]) == (23, 1)  # EIA left the other 22 blank
    assert _by_hand(eia_real_dir, "PJM", date(2024, 3, 10))[0] == 1
    assert int(row["hours_reported"]) < ImpactConfig().min_hours_per_day  # so no impact window uses it


@pytest.fixture(scope="module")
def files_run(
    tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path, eia_real_dir: Path
) -> tuple[Path, RunSummary, RunSummary]:
    wh = tmp_path_factory.mktemp("elecfiles") / "jevons.duckdb"
    kwargs = {"prices_from": str(real_prices_dir), "electricity_from": str(eia_real_dir), "warehouse": str(wh)}
    first = daily(**kwargs, report=False)
    second = daily(**kwargs, report=False)
    return wh, first, second


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.needs_shared
def test_files_run_fills_the_marts_and_reruns_as_a_no_op(files_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, first, second = files_run
    loads = {lr.table: lr for lr in first.loads}
    assert loads["core.electricity_demand_hourly"].inserted == 186_778
    assert loads["core.electricity_retail_sales_monthly"].inserted == 52_683
    assert loads["core.datacentre_electricity"].inserted == 76
    for lr in second.loads:
        assert (lr.inserted, lr.updated, lr.deleted) == (0, 0, 0), lr
    regions = dict(_rows(wh, "SELECT region_type, count(DISTINCT region) FROM marts.electricity_impact GROUP BY 1"))
    assert regions["balancing_authority"] == 4 and regions["state"] >= 50
    ok = {r for (r,) in _rows(wh, "SELECT DISTINCT region FROM marts.electricity_impact WHERE status = 'ok'")}
    assert {"PJM", "ERCO", "CISO", "US48", "VA", "TX"} <= ok


@pytest.mark.needs_shared
def test_sentinels_stay_out_of_the_marts_and_are_recorded(files_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, first, _ = files_run
    raw = _rows(wh, "SELECT max(value_mwh) FROM core.electricity_demand_hourly WHERE respondent = 'PJM'")
    assert raw == [(2_147_480_000.0,)]  # core keeps what EIA published
    # hours ending 2021-10-19T03..T05 UTC start at 22:00 and 23:00 EDT on 18 Oct and 00:00 EDT on 19 Oct
    days = _rows(
        wh,
        "SELECT date_local, hours_reported, value_mwh FROM marts.electricity_demand_daily WHERE respondent = 'PJM' "
        "AND date_local IN (DATE '2021-10-18', DATE '2021-10-19') ORDER BY 1",
    )
    assert [(d, h) for d, h, _ in days] == [(date(2021, 10, 18), 22), (date(2021, 10, 19), 23)]
    assert all(2.0e6 > float(v) > 1.0e6 for _, _, v in days)  # a PJM day, not a billion MWh
    pjm_mean_mw = _rows(
        wh,
        "SELECT max(value_mwh / hours_reported) FROM marts.electricity_demand_daily WHERE respondent = 'PJM'",
    )[0][0]
    assert 100_000 < pjm_mean_mw < 170_000  # PJM's record peak hour is about 165 GW
    flagged = _rows(
        wh,
        f"SELECT check_name, detail FROM ops.data_quality WHERE run_id = '{first.run_id}' "
        "AND check_name LIKE 'implausible_value%' ORDER BY check_name",
    )
    names = [name for name, _ in flagged]
    for hour in ("03", "04", "05"):
        assert f"implausible_value PJM D 2021-10-19T{hour}:00Z" in names
    detail = dict(flagged)["implausible_value PJM D 2021-10-19T04:00Z"]
    assert "2147480000.0 MWh (int32_sentinel)" in detail
    assert "implausible_value PJM D 2023-11-06T05:00Z" in names  # the half-hour DST dip


@pytest.mark.needs_shared
def test_revisions_recorded_and_the_later_vintage_kept(files_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, first, _ = files_run
    va = _rows(
        wh,
        "SELECT sales_mwh FROM core.electricity_retail_sales_monthly WHERE state = 'VA' AND sector = 'ALL' "
        "AND month = DATE '2024-01-01'",
    )
    assert va == [(pytest.approx(12_313_393.0, abs=1.0),)]  # the API export, not the 861M's 12,132,902
    revised = _rows(
        wh,
        f"SELECT message FROM ops.warnings WHERE run_id = '{first.run_id}' AND code = 'values_revised' "
        "AND message LIKE '%sales_mwh%'",
    )
    assert len(revised) == 1
    assert "sales_revenue.xlsx were replaced by the later vintage" in revised[0][0]
    assert "retail-sales_states_ALL_2001-2025.csv" in revised[0][0]


@pytest.mark.needs_shared
def test_jevons_check_gives_real_verdicts(files_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, _, _ = files_run
    rows = _rows(
        wh,
        "SELECT event_id, demand_outcome, dom_growth_change_6m_pp, us48_growth_change_6m_pp, verdict, regions_used, "
        "datacentre_context FROM marts.jevons_check ORDER BY event_date",
    )
    outcomes = {r[1] for r in rows}
    assert outcomes & {"slowed", "did_not_slow"}
    seek = next(r for r in rows if r[0] == "deepseek_selloff")
    _, outcome, dom_6m, us48_6m, verdict, used, context = seek
    assert outcome in ("slowed", "did_not_slow") and dom_6m is not None
    assert us48_6m is None  # US48 ends 2025-04-23, before the 182-day after-window ends
    assert "US48: data ends 2025-04-23, before its after-window ends (2025-07-28)" in verdict
    assert "PJM stands in for DOM (northern Virginia), which is not loaded" in verdict
    assert "dom: PJM standing in for DOM" in used
    assert "US data centres: 183 TWh in 2024, 426 TWh in 2030 in the IEA base case" in context
    assert context in verdict
