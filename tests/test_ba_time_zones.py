"""EIA-930 balancing-authority time zones (warehouse/seeds/ba_time_zones.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.sources.eia_files.load import HOURLY_TABLE, load_files
from transforms.electricity import time_zone_for
from warehouse.errors import SeedError
from warehouse.seed_regions import BA_TIME_ZONES_CSV, ba_time_zones, read_ba_time_zones


def test_seed_valid_and_complete() -> None:
    frame = read_ba_time_zones()
    kinds = frame["kind"].value_counts().sort("kind").rows()
    assert dict(kinds)["balancing_authority"] >= 65 and dict(kinds)["sub_ba"] >= 60


def test_the_transform_uses_the_seed_for_every_row() -> None:
    """Every BA, region and sub-BA of the seed gets its seed zone in the local-day transform (no UTC fallback)."""
    frame = read_ba_time_zones()
    for respondent, subba, zone in frame.select("respondent", "subba", "time_zone").iter_rows():
        assert time_zone_for(respondent, subba) == zone, (respondent, subba)
    assert time_zone_for("PJM", "NOT_A_SUBBA") == "America/New_York"  # an unlisted sub-BA takes its parent's zone
    assert time_zone_for("ZZZZ", "") is None
    assert time_zone_for("PJM", "", {"PJM": "UTC"}) == "UTC"  # overrides first
    assert ba_time_zones()["PJM/DOM"] == "America/New_York" and ba_time_zones()["CISO/PGAE"] == "America/Los_Angeles"


def test_bad_zone_names_line_and_field(tmp_path: Path) -> None:
    text = BA_TIME_ZONES_CSV.read_text().splitlines()
    bad = text[1].split(",")
    text[2] = text[2].replace("America/", "America/Nowhere_", 1)
    path = tmp_path / "z.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(SeedError) as err:
        read_ba_time_zones(path)
    assert err.value.line == 3 and err.value.field == "time_zone" and bad


def test_mismatched_label(tmp_path: Path) -> None:
    text = BA_TIME_ZONES_CSV.read_text().splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("PJM,,"))
    text[row] = text[row].replace(",Eastern,", ",Pacific,")  # PJM has no note, so the label must match
    path = tmp_path / "z.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(SeedError, match="does not match EIA's Pacific"):
        read_ba_time_zones(path)


@pytest.mark.needs_shared
def test_every_real_respondent_has_a_zone(eia_real_dir: Path) -> None:
    frame = load_files(eia_real_dir).result.frames[HOURLY_TABLE]
    respondents = set(frame["respondent"].cast(str).unique())
    assert respondents == {"PJM", "ERCO", "CISO", "US48"}
    assert respondents <= set(ba_time_zones())


def test_label_differences_are_explained() -> None:
    frame = read_ba_time_zones().filter(kind="balancing_authority")
    noted = sorted(frame.filter(frame["note"] != "")["respondent"].to_list())
    assert noted == ["EPE", "IPCO", "MISO", "PNM", "WACM"]
