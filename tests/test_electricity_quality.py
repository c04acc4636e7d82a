"""Implausible hourly values (transforms.electricity_quality): planted cases and the real PJM defects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.sources.eia_files.api_export import read_path
from transforms.electricity_quality import screen_hourly, series_warnings


def _series(values: list[float | None], respondent: str = "X", type_: str = "D") -> pl.DataFrame:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "respondent": [respondent] * len(values),
            "subba": [""] * len(values),
            "period_utc": [start + timedelta(hours=i) for i in range(len(values))],
            "type": [type_] * len(values),
            "value_mwh": values,
        },
        schema_overrides={"period_utc": pl.Datetime("us", "UTC"), "value_mwh": pl.Float64},
    )


def test_planted_faults_flagged_and_nulled() -> None:
    values: list[float | None] = [
        100.0,
        102.0,
        -5.0,
        101.0,
        2_147_480_000.0,
        99.0,
        50.0,
        98.0,
        None,
        97.0,
        1_500.0,
        100.0,
    ]
    cleaned, flagged = screen_hourly(_series(values))
    assert dict(zip(flagged["value_mwh"].to_list(), flagged["reason"].to_list(), strict=True)) == {
        -5.0: "negative_demand",
        2_147_480_000.0: "int32_sentinel",
        50.0: "one_hour_dip",
        1_500.0: "far_above_series",
    }
    expected = [None if v in (-5.0, 2_147_480_000.0, 50.0, 1_500.0) else v for v in values]
    assert cleaned["value_mwh"].to_list() == expected


def test_interchange_may_be_negative_and_generation_is_not_judged_by_median() -> None:
    _, flagged = screen_hourly(_series([-300.0, 200.0, -100.0, 5.0, 4_000.0], type_="TI"))
    assert flagged.height == 0


def test_a_real_hour_next_to_a_sentinel_is_not_a_dip() -> None:
    _, flagged = screen_hourly(_series([100.0, 2_147_480_000.0, 100.0, 101.0]))
    assert flagged["reason"].to_list() == ["int32_sentinel"]


def test_series_warnings() -> None:
    frame = pl.concat([_series([None, None], respondent="A"), _series([1.0], respondent="B")])
    assert series_warnings(frame, [("B", "", "D"), ("C", "", "D")]) == [
        ("A//D", "all values are null"),
        ("C//D", "no rows (zero-length series)"),
    ]


@pytest.mark.needs_shared
def test_real_pjm_defects_caught(eia_real_dir: Path) -> None:
    frame = read_path(eia_real_dir / "region-data" / "region-data_PJM_D_2021-2025.csv").frame
    cleaned, flagged = screen_hourly(frame)
    got = {
        r["period_utc"].strftime("%Y-%m-%dT%H"): (r["value_mwh"], r["reason"]) for r in flagged.iter_rows(named=True)
    }
    assert got["2021-10-19T03"] == (1_527_760_000.0, "far_above_series")
    assert got["2021-10-19T04"] == (2_147_480_000.0, "int32_sentinel")
    assert got["2021-10-19T05"] == (431_044_000.0, "far_above_series")
    assert got["2023-11-06T05"] == (36_372.0, "one_hour_dip")
    assert len(got) <= 6  # the rules are for faults, not for ordinary peaks and troughs
    assert cleaned.height == frame.height
    assert cleaned["value_mwh"].max() < 200_000  # PJM's record peak is ~165 GW
