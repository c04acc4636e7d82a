"""The weather weight seeds: shipped files valid, bad rows named by file/line/field, consistent with NOAA data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flows.sources.noaa import zone_daily
from warehouse.errors import SeedError
from warehouse.seed_regions import read_weather_region_states, read_weather_region_zones

HEADER = "region,state,area,weight,basis\n"


def test_shipped_seeds_validate() -> None:
    states = read_weather_region_states()
    sums = states.group_by("region").agg(pl.col("weight").sum())
    assert (sums["weight"] - 1).abs().max() < 1e-9  # type: ignore[operator]
    pjm = states.filter(pl.col("region") == "PJM")
    assert set(pjm["state"]) == {"PA", "NJ", "MD", "DE", "VA", "WV", "OH", "IL", "KY", "DC", "NC", "IN", "MI"}
    assert pjm.filter(pl.col("state") == "DC")["area"][0] == "MD"  # DC has no nClimDiv code
    assert set(states.filter(pl.col("region") == "ISNE")["state"]) == {"CT", "MA", "ME", "NH", "RI", "VT"}
    for region, state in (("ERCO", "TX"), ("CISO", "CA"), ("NYIS", "NY"), ("US48", "US48"), ("VA", "VA")):
        assert states.filter(pl.col("region") == region).select("state", "weight").rows() == [(state, 1.0)]
    zones = read_weather_region_zones()
    assert set(zones["region"]) == {"PJM", "ERCO", "CISO", "MISO", "NYIS", "ISNE"}
    assert zones.group_by("region").agg(pl.col("weight").sum())["weight"].round(9).to_list() == [1.0] * 6


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("PJM,PA,PA,0.6,x\nPJM,OH,OH,0.3,x\n", r"line 2, field 'weight': weights of region 'PJM' sum to 0\.900000"),
        ("X,ZZ,ZZ,1,x\n", r"line 2, field 'state': unknown state 'ZZ'"),
        ("X,DC,DC,1,x\n", r"line 2, field 'area': 'DC' is not a nClimDiv area"),
        ("X,TX,TX,1.5,x\n", r"line 2, field 'weight': weight 1\.5 is outside \(0, 1\]"),
        ("X,TX,TX,1,x\nX,TX,TX,1,x\n", r"line 3, field 'state': duplicate X/TX: already on line 2"),
        ("X,TX,TX,heavy,x\n", r"field 'weight': 'heavy' is not a number"),
    ],
)
def test_bad_state_rows(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "weather_region_states.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(SeedError, match=message):
        read_weather_region_states(path)


def test_bad_zone_iso(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("region,iso,zone,weight,basis\nERCO,TEXAS,North,1,x\n")
    with pytest.raises(SeedError, match=r"line 2, field 'iso': unknown ISO 'TEXAS'"):
        read_weather_region_zones(path)


@pytest.mark.needs_shared
def test_seed_zones_are_the_station_tables(shared_data: Path) -> None:
    stations = zone_daily.read_stations(shared_data / "weather" / "zone_temp_daily" / "iso_zone_weather_stations.csv")
    seed = read_weather_region_zones().select("iso", "zone").sort("iso", "zone")
    assert seed.rows() == stations.select("iso", "zone").unique().sort("iso", "zone").rows()
