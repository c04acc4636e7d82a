"""The IEA data-centre seed equals the IEA Energy and AI (2025) data annex."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.sources.eia_files.iea import read_annex, read_seed
from warehouse.registry import table


@pytest.mark.needs_shared
def test_seed_equals_the_annex(iea_annex: Path) -> None:
    assert_frame_equal(read_seed(), read_annex(iea_annex))


def test_seed_figures_quoted_in_the_report() -> None:
    seed = read_seed()

    def twh(region: str, scenario: str, year: int) -> float:
        row = seed.filter(
            pl.col("region") == region,
            pl.col("segment") == "total",
            pl.col("scenario") == scenario,
            pl.col("year") == year,
        )
        return float(row["electricity_twh"].item())

    assert twh("United States", "historical", 2024) == 183.0
    assert twh("United States", "base", 2030) == 426.0
    assert [twh("World", "historical", y) for y in (2020, 2023, 2024)] == [269.0, 361.0, 416.0]
    assert twh("World", "base", 2030) == 946.0
    assert seed.columns == table("core.datacentre_electricity").column_names


def test_seed_rejects_duplicates(tmp_path: Path) -> None:
    from flows.sources.eia_files.errors import ElectricityFileError
    from flows.sources.eia_files.iea import SEED_CSV

    lines = SEED_CSV.read_text().splitlines()
    path = tmp_path / "s.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(ElectricityFileError, match="duplicate key"):
        read_seed(path)
