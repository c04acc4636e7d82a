"""The weather stage in the daily flow (issue 17 phase 2), on the real files: registry entries, the stage's marts,
the weather-adjusted impact and verdict, idempotent re-runs, the live path's failure policy, the report section.

The electricity core tables are loaded into the warehouse before the flow runs (with the file source's own
loader, flows.sources.eia_files.load), so the flow recomputes the electricity marts from the real EIA data;
once `--electricity-from DIR` is registered the same run can read them itself.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from flows.daily import RunSummary, daily
from flows.electricity import compute_electricity_marts
from flows.sources import registry
from flows.sources.base import ExtractContext
from flows.sources.noaa import extract as noaa_extract
from flows.sources.noaa.client import NoaaSourceError
from flows.weather import compute_weather
from transforms.weather.adjust import weather_verdict, with_weather_adjustment
from transforms.weather.impact import ADJUSTED_SCHEMA, weather_adjusted_change, weather_adjusted_impact
from transforms.weather.models import monthly_observations
from warehouse.connection import connect_read_only, staged_writer
from warehouse.load import load_frames

pytestmark = pytest.mark.needs_shared

MART_TABLES = (
    "marts.electricity_demand_daily",
    "marts.electricity_impact",
    "marts.jevons_check",
    "marts.weather_models",
    "marts.weather_normalised_demand",
)


def _with_electricity(wh: Path, eia_real: Path) -> None:
    from flows.sources.eia_files.load import load_files

    with staged_writer(wh) as con:
        load_frames(con, load_files(eia_real).result.frames, run_id="test", source="eia_files")


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
    real_prices_dir: Path,
    eia_real_dir: Path,
    shared_data: Path,
    prefect_server: str,
) -> Iterator[tuple[Path, RunSummary, RunSummary]]:
    """Two daily runs on real prices, EIA files and NOAA weather files; the second must change nothing."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path_factory.mktemp("weather-flow") / "jevons.duckdb"
    _with_electricity(wh, eia_real_dir)
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        args = {"prices_from": str(real_prices_dir), "weather_from": str(shared_data / "weather"), "warehouse": str(wh)}
        first = daily(**args)
        second = daily(**args, report=False)
    yield wh, first, second


def test_registry_has_both_weather_sources() -> None:
    files, live = registry.spec("noaa-files"), registry.spec("noaa")
    assert files.kind == live.kind == registry.KIND_WEATHER
    assert files.option is not None and files.option.flag == "--weather-from" and live.option is None
    assert registry.select("weather", {"weather_from": "/w"}) == (files, "/w")
    assert registry.select("weather", {}) == (live, None)


def test_flow_fills_weather_models(runs: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, first, _ = runs
    with duckdb.connect(str(wh), read_only=True) as con:
        r2 = dict(
            con.sql(
                "SELECT region, r2 FROM marts.weather_models WHERE metric = 'demand' AND frequency = 'monthly'"
            ).fetchall()
        )
        trend = dict(
            con.sql(
                "SELECT region, trend_pct_per_year FROM marts.weather_models "
                "WHERE metric = 'demand' AND frequency = 'monthly'"
            ).fetchall()
        )
        normalised = con.sql("SELECT count(*) FROM marts.weather_normalised_demand").fetchall()[0][0]
        daily_models = con.sql("SELECT count(*) FROM marts.weather_models WHERE frequency = 'daily'").fetchall()[0][0]
    # the figures on the real data: 94% of CISO's monthly demand, 99% of ERCO's; trends +0.7 and +4.7 %/yr
    assert r2["CISO"] == pytest.approx(0.94, abs=0.005) and r2["ERCO"] == pytest.approx(0.99, abs=0.005)
    assert trend["CISO"] == pytest.approx(0.7, abs=0.05) and trend["ERCO"] == pytest.approx(4.7, abs=0.05)
    assert normalised > 1000 and daily_models >= 3
    loads = {lr.table: lr for lr in first.loads}
    assert loads["marts.weather_models"].inserted > 200
    assert loads["core.weather_degree_days_monthly"].inserted > 80_000
    assert {w.stage for w in first.warnings} >= {"weather"}
    with duckdb.connect(str(wh), read_only=True) as con:
        stored = con.execute(
            "SELECT count(*) FROM ops.warnings WHERE stage = 'weather' AND run_id = ?", [first.run_id]
        ).fetchall()[0][0]
    assert stored == sum(w.stage == "weather" for w in first.warnings) > 0


def test_adjusted_columns_fit_before_the_event_only(runs: tuple[Path, RunSummary, RunSummary]) -> None:
    wh = runs[0]
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.sql(
            "SELECT region, metric, window_unit, window_length, event_date, growth_change_pp_weather_adjusted, "
            "weather_r2, weather_n_fit, weather_fit_start, weather_fit_end, weather_adjustment_status "
            "FROM marts.electricity_impact WHERE event_id = 'deepseek_selloff'"
        ).pl()
        check = con.sql(
            "SELECT verdict, verdict_weather_adjusted, weather_r2_min, adjusted_growth_change_6m_pp, "
            "n_regions_adjusted_6m, demand_outcome_weather_adjusted FROM marts.jevons_check "
            "WHERE event_id = 'deepseek_selloff'"
        ).pl()
    erco = rows.filter((pl.col("region") == "ERCO") & (pl.col("window_length") == 182)).row(0, named=True)
    assert erco["weather_adjustment_status"] == "ok" and erco["weather_r2"] > 0.95
    assert erco["weather_fit_end"] == date(2024, 12, 1) and erco["weather_n_fit"] <= 60  # no look-ahead
    assert erco["growth_change_pp_weather_adjusted"] is not None
    assert set(rows.filter(pl.col("window_length") == 28)["weather_adjustment_status"]) == {"no_monthly_window"}
    ok = rows.filter(pl.col("weather_adjustment_status") == "ok")
    assert (ok["weather_fit_end"] < ok["event_date"]).all() and (ok["weather_r2"] >= 0.5).all()
    assert rows.filter(pl.col("weather_adjustment_status") != "ok")["growth_change_pp_weather_adjusted"].is_null().all()
    row = check.row(0, named=True)
    assert row["n_regions_adjusted_6m"] >= 1 and row["weather_r2_min"] > 0.5
    assert "weather-adjusted" in row["verdict_weather_adjusted"] and "r2" in row["verdict_weather_adjusted"]
    assert row["demand_outcome_weather_adjusted"] in {"slowed", "did_not_slow"}
    assert row["verdict"] != row["verdict_weather_adjusted"]


def test_rerun_changes_nothing(runs: tuple[Path, RunSummary, RunSummary]) -> None:
    second = runs[2]
    loads = {lr.table: lr for lr in second.loads}
    for name in (*MART_TABLES, "core.weather_degree_days_monthly", "core.weather_daily"):
        lr = loads[name]
        assert (lr.inserted, lr.updated, lr.deleted) == (0, 0, 0), lr


def test_report_has_the_weather_section(runs: tuple[Path, RunSummary, RunSummary]) -> None:
    first = runs[1]
    assert first.report is not None
    text = Path(first.report).read_text(encoding="utf-8")
    assert "id='weather-section'" in text and 'id="jevons-weather"' in text and 'id="weather-models"' in text
    assert "weather-adjusted over the following" in text  # the adjusted verdict beside the raw change
    assert "No weather-normalised demand yet" not in text
    assert (Path(first.report).parent / "weather_normal_demand.png").stat().st_size > 10_000


def test_region_without_degree_days_is_a_warning(runs: tuple[Path, RunSummary, RunSummary], tmp_path: Path) -> None:
    wh = tmp_path / "jevons.duckdb"
    shutil.copyfile(runs[0], wh)
    with staged_writer(wh) as con:
        con.execute("DELETE FROM core.weather_degree_days_monthly WHERE area = 'TX'")
        stage = compute_weather(con, compute_electricity_marts(con))
    codes = {(w.subject, w.code) for w in stage.warnings}
    assert ("ERCO", "no_degree_days") in codes and ("TX", "no_degree_days") in codes
    erco = stage.electricity.impact.filter(pl.col("region") == "ERCO")
    assert set(erco["weather_adjustment_status"]) <= {"no_weather_model", "no_monthly_window"}
    assert stage.marts is not None
    monthly = stage.marts.models.filter(pl.col("frequency") == "monthly")["region"].to_list()
    assert "ERCO" not in monthly and "TX" not in monthly and "CISO" in monthly


def test_no_weather_data_is_one_warning(runs: tuple[Path, RunSummary, RunSummary], tmp_path: Path) -> None:
    wh = tmp_path / "jevons.duckdb"
    shutil.copyfile(runs[0], wh)
    with staged_writer(wh) as con:
        con.execute("DELETE FROM core.weather_degree_days_monthly")
        stage = compute_weather(con, compute_electricity_marts(con))
    assert [w.code for w in stage.warnings] == ["no_weather_data"] and stage.marts is None
    assert set(stage.electricity.impact["weather_adjustment_status"]) <= {"no_weather_model", "no_monthly_window"}
    assert stage.electricity.jevons["demand_outcome_weather_adjusted"].unique().to_list() == ["could_not_adjust"]
    assert stage.electricity.jevons["verdict_weather_adjusted"].str.starts_with("Could not weather-adjust").all()


def test_live_noaa_unreachable_is_a_warning_unless_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def unreachable() -> None:
        raise NoaaSourceError("NOAA https://www.ncei.noaa.gov/: host name not resolved (no network or DNS)")

    monkeypatch.setattr(noaa_extract, "weather_from_noaa", unreachable)
    ctx = ExtractContext(warehouse=tmp_path / "none.duckdb", tickers=[])
    result = noaa_extract.extract_live(ctx)
    assert result.frames == {} and [w.code for w in result.warnings] == ["weather_unavailable"]
    assert "--require-weather" in result.warnings[0].message
    with pytest.raises(NoaaSourceError, match="--require-weather: NOAA"):
        noaa_extract.extract_live(ExtractContext(warehouse=tmp_path / "none.duckdb", tickers=[], required=True))


def test_batched_adjusted_change_equals_the_reference(runs: tuple[Path, RunSummary, RunSummary]) -> None:
    """weather_adjusted_impact (stacked solves) against weather_adjusted_change (one QR-free Cholesky fit per
    case, itself held to statsmodels) on real series, every event: same status, fit window and figures."""
    from transforms.weather.regions import region_degree_days
    from transforms.weather.series import daily_demand, monthly_demand, retail_monthly
    from warehouse.seed_regions import read_weather_region_states

    con = connect_read_only(runs[0])
    try:
        days = daily_demand(con.sql("SELECT * FROM marts.electricity_demand_daily").pl())
        retail = con.sql("SELECT * FROM core.electricity_retail_sales_monthly WHERE state IN ('VA', 'TX')").pl()
        degree_days = con.sql("SELECT * FROM core.weather_degree_days_monthly").pl()
        events = con.sql("SELECT event_id, event_date FROM core.ai_events").pl()
    finally:
        con.close()
    monthly = pl.concat([monthly_demand(days), retail_monthly(retail)])
    weather, _ = region_degree_days(degree_days, read_weather_region_states())
    obs = monthly_observations(monthly, weather)
    batched = weather_adjusted_impact(obs, events, (3, 6))
    assert batched.schema == pl.Schema(ADJUSTED_SCHEMA)
    checked = 0
    for (region, metric), part in obs.group_by(["region", "metric"]):
        for event_id, event_date in events.iter_rows():
            for length in (3, 6):
                ref = weather_adjusted_change(part, event_date, length)
                got = batched.filter(
                    (pl.col("event_id") == event_id)
                    & (pl.col("region") == region)
                    & (pl.col("metric") == metric)
                    & (pl.col("window_length") == length)
                ).row(0, named=True)
                assert got["weather_adjustment_status"] == (ref.reason or "ok")
                assert (got["weather_n_fit"], got["weather_fit_start"], got["weather_fit_end"]) == (
                    ref.n_fit,
                    ref.fit_start,
                    ref.fit_end,
                )
                for value, expected in (
                    (got["weather_r2"], ref.r2),
                    (got["growth_change_pp_weather_adjusted"], ref.change_pp),
                ):
                    assert (value is None) == (expected is None)
                    if expected is not None:
                        assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)
                checked += 1
    assert checked > 500


def _impact_rows() -> pl.DataFrame:
    rows = [
        ("e", date(2025, 1, 27), "balancing_authority", "ERCO", "demand", "day", 182, -2.0),
        ("e", date(2025, 1, 27), "balancing_authority", "ERCO", "demand", "day", 28, -1.0),
        ("e", date(2025, 1, 27), "sub_ba", "DOM", "demand", "day", 182, -3.0),
        ("e", date(2025, 1, 27), "state", "VA", "retail_sales_COM", "month", 6, -2.5),
    ]
    cols = [
        "event_id",
        "event_date",
        "region_type",
        "region",
        "metric",
        "window_unit",
        "window_length",
        "growth_change_pp",
    ]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(pl.col("window_length").cast(pl.Int32))


def test_adjustment_joins_monthly_figures_and_says_why_not() -> None:
    adjusted = pl.DataFrame(
        [
            ("e", "ERCO", "demand", 6, 0.4, 0.98, 60, date(2020, 1, 1), date(2024, 12, 1), "ok"),
            ("e", "VA", "retail_sales_COM", 6, None, 0.3, 60, date(2020, 1, 1), date(2024, 12, 1), "poor_fit"),
        ],
        schema=ADJUSTED_SCHEMA,
        orient="row",
    )
    out = with_weather_adjustment(_impact_rows(), adjusted)
    from transforms.weather.adjust import ADJUSTED_COLUMNS

    assert out.columns == [*_impact_rows().columns, *ADJUSTED_COLUMNS] and out.height == 4
    assert out["weather_adjustment_status"].to_list() == ["ok", "no_monthly_window", "no_weather_model", "poor_fit"]
    assert out["growth_change_pp_weather_adjusted"].to_list() == [0.4, None, None, None]
    assert out["weather_r2"].to_list() == [0.98, None, None, 0.3]


def test_verdict_turns_on_the_adjusted_change() -> None:
    """Raw growth slowed by 2-3 pp (a mild summer); weather-adjusted, ERCO did not slow: the adjusted verdict says
    so with its r2, names what it could not adjust, and leaves the raw verdict as it was."""
    from transforms.electricity import JevonsConfig, jevons_check

    config = JevonsConfig()
    impact = _impact_rows().with_columns(pl.lit("ok").alias("status"))
    events = pl.DataFrame(
        {"event_id": ["e"], "event_date": [date(2025, 1, 27)], "category": ["efficiency"], "name": ["E"]}
    )
    stock = pl.DataFrame(
        {
            "event_id": ["e"],
            "ticker": ["VST"],
            "group": ["independent_power"],
            "model": ["market"],
            "window_start": [0],
            "window_end": [5],
            "car": [-0.2],
        }
    )
    adjusted = pl.DataFrame(
        [("e", "ERCO", "demand", 6, 0.4, 0.98, 60, date(2020, 1, 1), date(2024, 12, 1), "ok")],
        schema=ADJUSTED_SCHEMA,
        orient="row",
    )
    full = with_weather_adjustment(impact.drop("status"), adjusted).with_columns(pl.lit("ok").alias("status"))
    raw = jevons_check(full, stock, events, config)
    out = weather_verdict(raw, full, config).row(0, named=True)
    assert out["demand_outcome"] == "slowed" and out["demand_outcome_weather_adjusted"] == "did_not_slow"
    assert out["adjusted_growth_change_6m_pp"] == pytest.approx(0.4) and out["n_regions_adjusted_6m"] == 1
    assert out["weather_r2_min"] == pytest.approx(0.98)
    assert (
        "+0.4 pp weather-adjusted" in out["verdict_weather_adjusted"]
        and "r2 >= 0.98" in out["verdict_weather_adjusted"]
    )
    assert out["verdict_weather_adjusted"].startswith("Market feared less demand")
    assert out["weather_note"] == "DOM: no_weather_model; VA retail_sales_COM: no_weather_model"
    assert np.isclose(out["demand_growth_change_6m_pp"], np.mean([-2.0, -3.0, -2.5]))
